"""Settings of one encoder (or classifier) training run.

Kept free of torch so that the CLI can show these defaults in its help without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass

MINING = ("batch_hard", "semi_hard")
SCHEDULES = ("plateau", "onecycle", "budget")
TRIPLET_ON = ("fused", "identity")
# (zoom, mirror) views a studio encoder can average at inference, by name
VIEW_CANDIDATES: dict[str, tuple[tuple[float, bool], ...]] = {
    "plain": ((1.0, False),),
    "mirror": ((1.0, False), (1.0, True)),
    "mirror+zoom0.9": ((1.0, False), (1.0, True), (0.9, False), (0.9, True)),
    "mirror+zoom0.8": ((1.0, False), (1.0, True), (0.8, False), (0.8, True)),
}


@dataclass
class EncoderTrainConfig:
    epochs: int = 30
    batch_size: int = 96
    lr: float = 2e-3
    weight_decay: float = 5e-4
    margin: float = 0.2
    mining: str = "batch_hard"
    # plateau: ReduceLROnPlateau on the validation score; onecycle: per step over `epochs`;
    # budget: warm-up then cosine decay over the wall-time budget (max_minutes), which ends
    # training fully annealed however busy the machine is.
    schedule: str = "plateau"
    label_smoothing: float = 0.1
    triplet_weight: float = 1.0
    color_weight: float = 0.5
    # weight of the attribute heads' loss (the drawn fit, length, sleeve and pattern predicted
    # from the identity chunk, renders only); 0 = no attribute heads
    attr_weight: float = 0.0
    # weight of the detail heads' loss (the renders' discrete shape draws: neckline, waistband,
    # sole, sandal straps, bag and hat kind with hardware); 0 = no detail heads
    detail_weight: float = 0.0
    attr_dropout: float = 0.5
    patience: int = 8
    crop_size: int = 96
    demo_fraction: float = 0.5  # share of each batch drawn from renders when both sources exist
    demo_k: int = 2  # pictures of the same item per batch (positives for the triplet loss)
    # items drawn together from one category-and-colour bucket: their near-twins are then in
    # the batch, the hard negatives that item separation (R@1) needs (1 = items at random)
    demo_group: int = 1
    aug_strength: float = 1.0
    max_minutes: float = 0.0  # stop after this wall time (0 = no limit)
    # from this share of the run (of the --max-minutes budget, else of the epochs) on, every
    # epoch's end weights join a running average saved as <name>_avg.pt (stochastic weight
    # averaging over the annealed end of the schedule); None = no average
    average_from: float | None = None
    # where the item-identity triplet acts: "fused" (whole embedding) or "identity" (its own
    # chunk, so that item separation does not fight the category and colour chunks)
    item_triplet_on: str = "identity"
    heads_only: bool = False  # batches hold cached trunk features; only the heads are trained
    # batches hold a split (pretrained) trunk's cached frozen-part features of several views
    # per picture; the trunk's tail and the heads are trained (fine-tuning on a CPU)
    tail_only: bool = False
    cache_views: int = 2  # views cached per picture for tail_only: the plain one + augmented
    trunk_lr_scale: float = 1.0  # the trunk learns at lr x this (below 1 for a pretrained one)
    device: str = "cpu"
    seed: int = 0
