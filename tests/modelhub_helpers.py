"""A tiny shipped studio_encoder and a small catalog embedded with it (model hub tests)."""

from __future__ import annotations

TINY = {"widths": (8, 8, 16, 16), "blocks": (1, 1, 1, 1)}


def tiny_hub(settings, repo, n: int = 30, size: int = 48) -> None:
    from core.models.embed import embed_catalog
    from core.models.manifest import record_weights
    from core.models.studio import new_encoder, save_checkpoint
    from tests.helpers import make_small_catalog

    model = new_encoder(**TINY)
    model.image_size = 32
    settings.weights_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, settings.weights_dir / "studio_encoder.pt")
    record_weights(settings.weights_dir, "studio_encoder.pt", command="test")
    make_small_catalog(repo, settings.data_dir, n, size)
    embed_catalog(repo, settings, "studio_encoder", workers=0)


def split_hub(settings, repo, n: int = 30, size: int = 48) -> None:
    """The studio_encoder slot holding a tiny-input encoder on an EfficientNet-Lite trunk split
    at block 2 (random init), so a fine-tune first caches its frozen blocks' features; a small
    catalog (not embedded: fine-tuning does not need vectors)."""
    from core.models.manifest import record_weights
    from core.models.studio import new_encoder, save_checkpoint
    from tests.helpers import make_small_catalog

    model = new_encoder(trunk="efficientnet_lite0", cut=2)
    model.image_size = 32
    settings.weights_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, settings.weights_dir / "studio_encoder.pt")
    record_weights(settings.weights_dir, "studio_encoder.pt", command="test")
    make_small_catalog(repo, settings.data_dir, n, size)
