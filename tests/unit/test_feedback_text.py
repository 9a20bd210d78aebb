"""Text towers: the packaged MiniLM, and BERT / CLIP towers from files the tests write."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest

from core.feedback.text import (
    TextTowerError,
    build_text_tower,
    list_text_towers,
    normalise_text,
    register_text_tower,
)

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "make", "it", "red", "with", "long",
         "sleeves", "blue", "is", "darker"]


@pytest.fixture(scope="module")
def minilm():
    return build_text_tower("minilm")


def test_registry_lists_towers_and_refuses_duplicates():
    assert {"minilm", "bert", "clip"} <= set(list_text_towers())
    with pytest.raises(ValueError, match="already registered"):
        register_text_tower("minilm", folder=None, pooling="mean", description="x")(lambda p: ())


def test_minilm_tokens_are_real_words(minilm):
    toks = minilm.tokens("Is NAVY with long sleeves")
    assert "[UNK]" not in toks
    assert toks[:2] == ["is", "navy"]


def test_minilm_vectors_are_normalised_and_meaningful(minilm):
    v = minilm.encode(["is red", "is crimson", "has long sleeves"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # colour words sit closer to each other


def test_repeated_captions_come_from_the_cache(minilm):
    first = minilm.encode(["make it darker please"])
    assert normalise_text("Make it  darker please ") in minilm._cache
    again = minilm.encode(["Make it  darker please "])
    assert np.array_equal(first, again)
    assert minilm.encode([]).shape == (0, 384)


def test_missing_bert_folder_names_the_folder(tmp_path):
    with pytest.raises(TextTowerError) as err:
        build_text_tower("bert", weights_dir=tmp_path)
    assert str(tmp_path / "pretrained" / "bert-base-uncased") in str(err.value)


def test_unknown_tower_is_a_clear_error():
    with pytest.raises(TextTowerError, match="unknown text tower 'gpt'"):
        build_text_tower("gpt")


def test_bert_tower_loads_from_weights_folder(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path / "pretrained" / "bert-base-uncased"
    BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)}).save_pretrained(folder)
    BertModel(BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64)).save_pretrained(folder)
    tower = build_text_tower("bert", weights_dir=tmp_path)
    assert tower.dim == 32
    assert tower.tokens("make it red") == ["make", "it", "red"]
    assert tower.encode(["make it red", "is blue"]).shape == (2, 32)


def test_bert_vocab_txt_only_folder_still_tokenizes(tmp_path):
    from transformers import BertConfig, BertModel

    folder = tmp_path / "pretrained" / "bert-base-uncased"
    BertModel(BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=64)).save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tower = build_text_tower("bert", weights_dir=tmp_path)
    assert "[UNK]" not in tower.tokens("make it red with long sleeves")


def test_clip_tower_uses_the_projection(tmp_path):
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    folder = tmp_path / "pretrained" / "clip-vit-base-patch32"
    folder.mkdir(parents=True)
    vocab = {c: i for i, c in enumerate(string.ascii_lowercase)}
    vocab.update({c + "</w>": len(vocab) + i for i, c in enumerate(string.ascii_lowercase)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt")).save_pretrained(folder)
    eos = vocab["<|endoftext|>"]
    cfg = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, projection_dim=16,
                         max_position_embeddings=64, eos_token_id=eos, pad_token_id=eos,
                         bos_token_id=vocab["<|startoftext|>"])
    CLIPTextModelWithProjection(cfg).save_pretrained(folder)
    tower = build_text_tower("clip", weights_dir=tmp_path)
    assert tower.dim == 16
    v = tower.encode(["make it red"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
