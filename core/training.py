"""The one training loop every trainer in the project runs (image encoder, Models-page
fine-tune, feedback combiner, outfit compatibility).

A trainer supplies its batches, how a batch's loss is computed and how an epoch is validated.
:func:`train_steps` runs the optimiser steps of one epoch (zero_grad, backward, optional
gradient clipping, step, per-step scheduler) and stops the run when the loss becomes NaN/inf
or a stop is requested; :func:`run_epochs` runs the epochs, keeps the history and the best
validation epoch's weights (:class:`BestWeights`), and stops on the epoch count, on
``patience`` epochs without a better score, on a wall-time budget, on divergence or on
request. Both return what happened in one :class:`TrainResult`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# why a run ended (TrainResult.reason)
STOP_REASONS = ("epochs", "patience", "time", "diverged", "requested")


@dataclass
class TrainResult:
    """What a run did: one row of figures per finished epoch, the best validation epoch (-1
    when nothing was validated) and its score, and why the run ended (``reason`` one of
    STOP_REASONS; ``stopped`` says it in words, empty when every epoch ran)."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_score: float = -math.inf
    stopped: str = ""
    reason: str = "epochs"

    @property
    def best_row(self) -> dict:
        """The best epoch's row ({} when no epoch was validated)."""
        return self.history[self.best_epoch - 1] if self.best_epoch > 0 else {}


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside an epoch to end the run there (the epoch is not recorded)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


class BestWeights:
    """The best validation epoch's weights: a copy of the model's state dict kept in memory
    and put back by :meth:`restore` (``in_memory``), and/or a checkpoint written by ``save``
    (for models too large to copy, or whose best epoch must survive the process)."""

    def __init__(self, model, *, save: Callable[[Any, dict], None] | None = None,
                 in_memory: bool = True):
        self.model, self.save, self.in_memory = model, save, in_memory
        self.state: dict | None = None
        self.row: dict | None = None

    def keep(self, row: dict) -> None:
        if self.in_memory:
            self.state = copy.deepcopy(self.model.state_dict())
        if self.save is not None:
            self.save(self.model, row)
        self.row = row

    def restore(self) -> bool:
        """Load the kept weights into the model; False when there are none in memory."""
        if self.state is None:
            return False
        self.model.load_state_dict(self.state)
        return True


@dataclass
class EpochSteps:
    """The optimiser steps of one epoch: the loss of each step and of each named part."""

    losses: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)


def train_steps(model, batches: Iterable, loss_of: Callable[[Any], Any], opt, *,
                epoch: int = 0, scheduler=None, clip_norm: float | None = None,
                on_step: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                end_epoch: Callable[[], bool] | None = None) -> EpochSteps:
    """One epoch of optimiser steps on ``batches``, the model in train mode (eval mode after).

    ``loss_of(batch)`` returns the loss, or (loss, {part: float}). Per batch: loss, zero_grad,
    backward, gradient clipping to ``clip_norm`` (if given), step, ``scheduler.step()`` (if
    given: a per-step schedule), then ``on_step(epoch, step)``. A NaN/inf loss raises
    :class:`StopTraining` ("diverged") before the step, ``should_stop()`` true after a step
    raises it ("requested"); ``end_epoch()`` true after a step ends the epoch early."""
    model.train()
    out = EpochSteps()
    for step, batch in enumerate(batches, 1):
        loss = loss_of(batch)
        loss, parts = loss if isinstance(loss, tuple) else (loss, {})
        value = loss.item()
        if not math.isfinite(value):
            raise StopTraining("diverged", f"the training loss became NaN/inf in epoch {epoch}"
                                           f" (step {step})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip_norm is not None:
            import torch

            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.losses.append(value)
        for k, v in parts.items():
            out.parts.setdefault(k, []).append(v)
        if on_step is not None:
            on_step(epoch, step)
        if should_stop is not None and should_stop():
            raise StopTraining("requested", "stopped on request")
        if end_epoch is not None and end_epoch():
            break
    _check_weights(model, epoch)
    model.eval()
    return out


def _check_weights(model, epoch: int) -> None:
    """StopTraining ("diverged") when a trained weight became NaN/inf (a last step can blow
    the weights up after the last loss was still finite)."""
    import torch

    if not all(torch.isfinite(p).all() for p in model.parameters() if p.requires_grad):
        raise StopTraining("diverged", f"the weights became NaN/inf in epoch {epoch}")


def run_epochs(train_epoch: Callable[[int], dict], *, epochs: int,
               validate: Callable[[dict], dict] | None = None, score_key: str = "score",
               best: BestWeights | None = None,
               on_epoch: Callable[[dict], None] | None = None,
               patience: int = 0, max_minutes: float = 0.0,
               result: TrainResult | None = None) -> TrainResult:
    """Run up to ``epochs`` epochs. ``train_epoch(epoch)`` trains one and returns its figures
    (it may raise :class:`StopTraining`); ``validate(row)`` (given the row so far) returns
    validation figures merged into the row, among them ``score_key`` (higher is better).
    ``best`` keeps each new best epoch's weights and restores them when the run ends.
    ``patience`` 0 never stops early. Pass ``result`` to read it while the loop runs (e.g.
    to plot curves from ``on_epoch``). Denormal floats count as zero meanwhile
    (:func:`flush_denormals`)."""
    res = result if result is not None else TrainResult()
    with flush_denormals():
        start, stale = time.monotonic(), 0
        for epoch in range(1, epochs + 1):
            try:
                row = {"epoch": epoch, **train_epoch(epoch)}
            except StopTraining as stop:
                res.reason, res.stopped = stop.reason, stop.message
                break
            if validate is not None:
                row.update(validate(row))
            score = row.get(score_key)
            if score is not None:
                if score > res.best_score:
                    res.best_score, res.best_epoch, stale = float(score), epoch, 0
                    if best is not None:
                        best.keep(row)
                else:
                    stale += 1
            res.history.append(row)
            if on_epoch is not None:
                on_epoch(row)
            if patience and stale >= patience:
                res.reason = "patience"
                res.stopped = f"early stop: no better validation score for {stale} epochs"
                break
            if max_minutes and (time.monotonic() - start) / 60 >= max_minutes:
                res.reason, res.stopped = "time", f"time budget of {max_minutes} min reached"
                break
    if best is not None:
        best.restore()
    return res


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat denormal floats as zero while training a small model on a CPU.

    Adam's moment estimates of units that stop receiving gradients decay geometrically into
    the denormal range, where CPU arithmetic is many times slower: the outfit model's epochs
    went from 1.2 s to 20 s by epoch 11 without this (the same run: 1.2 s throughout with it).
    :func:`run_epochs` applies it to every trainer.
    """
    import torch

    torch.set_flush_denormal(True)  # returns whether the CPU supports it, not the old state
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
