"""The shipped weights match their manifest and load as the default backbone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.models.registry import build_backbone, get_spec
from core.models.studio import sha256_of

WEIGHTS = Path(__file__).resolve().parents[2] / "weights"


def test_every_manifest_entry_matches_its_file():
    manifest = json.loads((WEIGHTS / "manifest.json").read_text())
    assert {"studio_lite.pt", "studio_encoder.pt"} <= set(manifest["files"])
    for name, entry in manifest["files"].items():
        path = WEIGHTS / name
        assert path.is_file(), name
        assert sha256_of(path) == entry["sha256"], f"{name}: sha256 differs from the manifest"
        assert entry["command"].startswith("python -m core train")
        assert entry["data"] and entry["metrics"]
        assert path.stat().st_size < 20 * 1024 * 1024


@pytest.mark.parametrize("name", ["studio_lite", "studio_encoder"])
def test_shipped_encoder_loads_and_embeds(name):
    model = build_backbone(name, weights="default", weights_dir=WEIGHTS)
    size = get_spec(name).preprocess.size
    with torch.inference_mode():
        out = model(torch.rand(2, 3, size, size))
    assert out.shape == (2, 128)
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-4)
