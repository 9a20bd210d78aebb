"""Settings of one outfit compatibility training run, with the ranges `train compat` accepts
(see ``core.ranges``; None: no upper limit).

Kept free of torch so that the CLI can show these defaults in its help without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass
class CompatibilityTrainConfig:
    epochs: int = 80
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 12
    swaps: int = 1  # random-swap negatives per compatible outfit, drawn afresh every epoch
    dropout: float = 0.5
    noise: float = 0.02  # std of noise on item vectors (photos are noisier than renders)
    facts: bool = True  # read the catalog's season and gender beside the pictures
    facts_dropout: float = 0.3  # share of items whose facts are hidden, as a photo's are
    seed: int = 0
    EPOCHS: ClassVar[tuple] = (1, None)
    BATCH_SIZE: ClassVar[tuple] = (1, None)
