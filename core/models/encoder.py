"""The project's own image encoder: a compact residual CNN, an optional attribute MLP and heads.

The image path alone yields the normalised embedding used at query time (an uploaded photo has
no attributes); the attribute MLP is fused in during training so attributes shape the space.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_WIDTHS = (32, 64, 128, 256)
DEFAULT_BLOCKS = (1, 1, 1, 1)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet v1.5 style)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.short = None
        if stride != 1 or c_in != c_out:
            pool = nn.AvgPool2d(stride, ceil_mode=True, count_include_pad=False)
            self.short = nn.Sequential(
                pool if stride > 1 else nn.Identity(),
                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)), inplace=True)


class Trunk(nn.Module):
    """Stride-4 stem (cheap on CPU) then four residual stages; average + max pooling."""

    def __init__(self, widths: tuple[int, ...] = DEFAULT_WIDTHS,
                 blocks: tuple[int, ...] = DEFAULT_BLOCKS):
        super().__init__()
        w0 = widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(3, w0 // 2, 3, 2, 1, bias=False), nn.BatchNorm2d(w0 // 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(w0 // 2, w0, 3, 2, 1, bias=False), nn.BatchNorm2d(w0), nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        c_in = w0
        for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                layers.append(BasicBlock(c_in, w, stride=2 if (j == 0 and i > 0) else 1))
                c_in = w
        self.stages = nn.Sequential(*layers)
        self.out_dim = 2 * c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return torch.cat([x.mean((2, 3)), x.amax((2, 3))], dim=1)


class CosineHead(nn.Module):
    """Cosine classifier: scaled similarity to learned class directions (clusters by class)."""

    def __init__(self, dim: int, n_classes: int, scale: float = 16.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, dim) * 0.1)
        self.scale = scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(z, dim=1) @ F.normalize(self.weight, dim=1).T


class StudioEncoder(nn.Module):
    """CNN (+ attribute MLP) -> fused, normalised embedding made of three chunks.

    The projection is split into a category chunk, a colour chunk and an identity chunk, each
    normalised and weighted before the whole is normalised again: cosine similarity is then a
    weighted sum of category, colour and fine-grained (item) similarity. Cosine classifiers on
    the first two chunks make them cluster by category and by colour; the triplet loss on the
    fused embedding separates items.
    """

    def __init__(self, *, embed_dim: int = 128, n_categories: int = 0, n_colors: int = 0,
                 attr_dim: int = 0, widths: tuple[int, ...] = DEFAULT_WIDTHS,
                 blocks: tuple[int, ...] = DEFAULT_BLOCKS, dropout: float = 0.2,
                 chunk_weights: tuple[float, float, float] = (0.5, 0.3, 0.2),
                 trunk: nn.Module | None = None):
        super().__init__()
        # the from-scratch residual CNN, or a given (pretrained) trunk with the same interface
        self.trunk = trunk if trunk is not None else Trunk(widths, blocks)
        self.embed_dim = embed_dim
        half, quarter = embed_dim // 2, embed_dim // 4
        self.chunks = (half, quarter, embed_dim - half - quarter)
        self.register_buffer("chunk_scale", torch.tensor(chunk_weights).sqrt(), persistent=False)
        self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.trunk.out_dim, embed_dim))
        self.attr_mlp = None
        if attr_dim:
            self.attr_mlp = nn.Sequential(
                nn.Linear(attr_dim, 64), nn.ReLU(inplace=True), nn.Linear(64, embed_dim)
            )
        # (zoom, mirror) views whose features are averaged at inference (test-time
        # augmentation); the default is the plain image. Checkpoints store their own.
        self.views: tuple[tuple[float, bool], ...] = ((1.0, False),)
        # Side of the square input the model is trained for (checkpoints store their own).
        self.image_size = 128
        # Chunk weights of the "this exact item" query mode (chosen on validation data by
        # ``train tune``; None: the model offers no such mode).
        self.item_weights: tuple[float, float, float] | None = None
        self.cat_head = CosineHead(self.chunks[0], n_categories) if n_categories else None
        self.color_head = CosineHead(self.chunks[1], n_colors) if n_colors else None
        # Attribute heads on the identity chunk (training only): predicting the drawn
        # attributes (fit, length, sleeve, pattern) from pixels makes that chunk tell apart
        # look-alikes that differ in them; None until ``add_attr_heads``.
        self.attr_heads: nn.ModuleDict | None = None

    def add_attr_heads(self, sizes: dict[str, int]) -> None:
        """Cosine heads predicting attributes or shape details (name -> number of values) from
        identity; heads the model already has are kept."""
        if self.attr_heads is None:
            self.attr_heads = nn.ModuleDict()
        for name, n in sizes.items():
            if name not in self.attr_heads:
                self.attr_heads[name] = CosineHead(self.chunks[2], n)

    def attr_logits(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Attribute logits of a projection (empty without attribute heads)."""
        if self.attr_heads is None:
            return {}
        ident = z.split(self.chunks, dim=1)[2]
        return {name: head(ident) for name, head in self.attr_heads.items()}

    def train(self, mode: bool = True) -> StudioEncoder:
        """Training mode, except for a pretrained trunk's frozen part (its BatchNorm statistics
        stay those it was trained with)."""
        super().train(mode)
        for module in getattr(self.trunk, "frozen_modules", list)():
            module.eval()
        return self

    def tail_features(self, h: torch.Tensor) -> torch.Tensor:
        """Projection from a split trunk's frozen-part features (cached during fine-tuning)."""
        return self.proj(self.trunk.tail(h))

    def features(self, x: torch.Tensor, attrs: torch.Tensor | None = None) -> torch.Tensor:
        """Un-normalised projection; attributes (one-hot, zeros when unknown) added if given."""
        z = self.proj(self.trunk(x))
        if attrs is not None and self.attr_mlp is not None:
            z = z + self.attr_mlp(attrs)
        return z

    def unit_chunks(self, z: torch.Tensor) -> list[torch.Tensor]:
        """The projection's category, colour and identity chunks, each L2-normalised."""
        return [F.normalize(p, dim=1) for p in z.split(self.chunks, dim=1)]

    def embed(self, z: torch.Tensor, weights=None) -> torch.Tensor:
        """Fused embedding: per-chunk normalisation and weighting, then overall normalisation.
        ``weights`` (category, colour, identity) replace the model's own chunk weights."""
        scale = self.chunk_scale if weights is None else torch.tensor(
            weights, dtype=z.dtype, device=z.device).sqrt()
        parts = [p * w for p, w in zip(self.unit_chunks(z), scale, strict=True)]
        return F.normalize(torch.cat(parts, dim=1), dim=1)

    def query_factors(self, weights) -> tuple[torch.Tensor, float]:
        """Per-chunk query factors that make a query's dot product with this model's stored
        embeddings weigh category, colour and identity by ``weights`` instead of the model's
        own chunk weights (a catalog embedded once is searched either way), and the factor
        turning the normalised query's cosine scores back into sum(w_i cos_i) / sum(w_i).

        A stored embedding is [sqrt(s_i) u_i] / sqrt(sum s); scaling the query's unit chunk i
        by w_i / sqrt(s_i) makes their dot product sum(w_i cos_i) / sqrt(sum s)."""
        w = torch.tensor(weights, dtype=torch.float32)
        factors = w / self.chunk_scale.float().cpu()
        own = float(self.chunk_scale.float().pow(2).sum().sqrt())
        return factors, float(factors.norm()) * own / float(w.sum())

    def query_as(self, z: torch.Tensor, weights) -> torch.Tensor:
        """The normalised query vector of projections ``z`` re-weighted by ``weights``."""
        factors = self.query_factors(weights)[0].to(z.device, z.dtype)
        q = torch.cat([p * f for p, f in zip(self.unit_chunks(z), factors, strict=True)], 1)
        return F.normalize(q, dim=1)

    def view_features(self, x: torch.Tensor) -> torch.Tensor:
        """Image-only projection averaged over this model's inference views."""
        if self.views == ((1.0, False),):
            return self.features(x)
        return sum(self.features(view(x, z, f)) for z, f in self.views) / len(self.views)

    def forward(self, x: torch.Tensor, attrs: torch.Tensor | None = None) -> torch.Tensor:
        """The normalised embedding (image-only unless attributes are passed); at inference
        an image-only call averages the model's views."""
        if attrs is None and not self.training:
            return self.embed(self.view_features(x))
        return self.embed(self.features(x, attrs))

    def category_probs(self, z: torch.Tensor) -> torch.Tensor | None:
        """Category probabilities from a projection (None without a category head)."""
        return self.cat_head(z.split(self.chunks, dim=1)[0]).softmax(1) \
            if self.cat_head is not None else None

    def heads(self, z: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Category and colour logits from the projection's first two chunks."""
        cat_z, col_z, _ = z.split(self.chunks, dim=1)
        cat = self.cat_head(cat_z) if self.cat_head is not None else None
        col = self.color_head(col_z) if self.color_head is not None else None
        return cat, col


def view(x: torch.Tensor, zoom: float, flip: bool) -> torch.Tensor:
    """A centred zoom (crop of ``zoom`` of the side, resized back) and/or mirror of a batch."""
    if zoom != 1.0:
        side = x.shape[-1]
        crop = max(1, int(round(side * zoom)))
        off = (side - crop) // 2
        x = F.interpolate(x[..., off:off + crop, off:off + crop], size=(side, side),
                          mode="bilinear", align_corners=False, antialias=True)
    return x.flip(-1) if flip else x
