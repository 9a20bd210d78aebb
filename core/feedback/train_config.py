"""Settings of one feedback combiner training run.

Kept free of torch so that the CLI can show these defaults in its help without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass

NEGATIVES = ("batch", "gallery")


@dataclass
class CombinerTrainConfig:
    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hidden: int = 512
    dropout: float = 0.1
    patience: int = 8  # epochs without a better validation R@10 before stopping
    baseline_epochs: int = 15
    seed: int = 0
    ref_noise: float = 0.0  # std of noise added to reference vectors (photo robustness)
    # "batch": classify among the batch's targets (FashionVLP); "gallery": among every
    # training item (frozen vectors make the whole gallery one cheap matrix product).
    negatives: str = "batch"  # one of NEGATIVES
