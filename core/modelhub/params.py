"""A fine-tune's settings with their defaults and accepted ranges, and the error of a catalog
or a setting that cannot be fine-tuned on.

Light on purpose (no torch): the CLI builds its parser from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.ranges import range_problems


class DataError(ValueError):
    """The catalog cannot be fine-tuned on; the message says what is missing."""


@dataclass
class FineTuneParams:
    """One fine-tune's settings; beside each default, the range the Models page offers and
    ``check`` (the CLI's and the page's) accepts (see ``core.ranges``)."""

    epochs: int = 3
    batch_size: int = 32
    lr: float = 5e-4
    image_size: int | None = None  # None: the base model's own input side
    device: str = "auto"
    max_minutes: float = 0.0  # wall-time budget of the whole run, reading photos included (0: none)
    base: str | None = None  # model id to start from (None: the active encoder)
    seed: int = 0
    threads: int = 0  # torch CPU threads (0 = leave one core to the app)
    folder: str | None = None  # a folder of class folders to train on instead of the catalog
    EPOCHS: ClassVar[tuple] = (1, 200)
    BATCH_SIZE: ClassVar[tuple] = (4, 512, 4)
    LR: ClassVar[tuple] = (1e-6, 1.0)
    IMAGE_SIZE: ClassVar[tuple] = (32, 512, 16)  # px
    MAX_MINUTES: ClassVar[tuple] = (0.0, 1440.0)
    LABELS: ClassVar[dict] = {"epochs": "epochs", "batch_size": "batch size",
                              "lr": "learning rate", "image_size": "image size (px)",
                              "max_minutes": "time budget (minutes, 0 = none)"}

    def check(self) -> None:
        """Raise DataError naming the first setting outside its range."""
        problems = range_problems(self)
        if problems:
            name, reason = problems[0]
            raise DataError(f"{self.LABELS[name]} {reason}")
