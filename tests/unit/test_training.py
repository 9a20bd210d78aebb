"""The shared training loop: epochs, best weights, patience, time budget, divergence, stop
request, and the optimiser steps on a tiny linear model."""

from __future__ import annotations

import math

import pytest
import torch

from core.training import (
    STOP_REASONS,
    BestWeights,
    StopTraining,
    TrainResult,
    run_epochs,
    train_steps,
)


def test_best_epochs_and_patience():
    scores = iter([0.1, 0.5, 0.4, 0.45, 0.3, 0.9])
    seen = []
    res = TrainResult()
    out = run_epochs(lambda e: {"loss": 1.0 / e}, epochs=6,
                     validate=lambda row: {"val": next(scores), "had_loss": "loss" in row},
                     score_key="val", on_epoch=lambda row: seen.append(len(res.history)),
                     patience=3, result=res)
    assert out is res
    assert res.best_epoch == 2 and res.best_score == 0.5 and res.best_row["val"] == 0.5
    assert [r["epoch"] for r in res.history] == [1, 2, 3, 4, 5]  # 3 flat epochs after the 2nd
    assert res.reason == "patience" and res.stopped.startswith("early stop")
    assert all(r["had_loss"] for r in res.history)
    assert seen == [1, 2, 3, 4, 5]  # on_epoch sees the history with its row already in


def test_without_validation_or_patience_runs_every_epoch():
    res = run_epochs(lambda e: {"loss": 1.0}, epochs=4)
    assert len(res.history) == 4 and res.best_epoch == -1 and res.best_row == {}
    assert res.stopped == "" and res.reason == "epochs"


def test_time_budget_stops_after_the_epoch_that_exceeds_it():
    res = run_epochs(lambda e: {"loss": 1.0}, epochs=100, max_minutes=1e-9)
    assert len(res.history) == 1 and res.reason == "time" and "time budget" in res.stopped


def _line(seed: int = 0, n: int = 64):
    """y = 3x - 1 plus a little noise, and a linear model to fit it."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=gen)
    y = 3 * x - 1 + 0.01 * torch.randn(n, 1, generator=gen)
    torch.manual_seed(seed)
    return x, y, torch.nn.Linear(1, 1)


def _fit_line(model, x, y, *, epochs: int, lr: float, validate=None, best=None, **steps_kw):
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def mse(batch):
        xb, yb = batch
        return torch.nn.functional.mse_loss(model(xb), yb)

    def train_epoch(epoch: int) -> dict:
        batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, len(x), 16)]
        losses = train_steps(model, batches, mse, opt, epoch=epoch, **steps_kw).losses
        return {"loss": sum(losses) / len(losses), "steps": len(losses)}

    return run_epochs(train_epoch, epochs=epochs, validate=validate, best=best)


def test_steps_fit_a_line_and_every_epoch_is_in_the_history():
    x, y, model = _line()
    res = _fit_line(model, x, y, epochs=30, lr=0.1)
    assert len(res.history) == 30 and res.reason == "epochs"
    assert all(r["steps"] == 4 for r in res.history)
    assert res.history[-1]["loss"] < 0.01 * res.history[0]["loss"]
    assert abs(model.weight.item() - 3) < 0.05 and abs(model.bias.item() + 1) < 0.05
    assert not model.training  # eval mode after the epoch


def test_best_weights_are_restored_at_the_end():
    x, y, model = _line()
    snapshots = []

    def validate(row: dict) -> dict:  # the 3rd epoch scores best, later ones worse
        snapshots.append(model.weight.detach().clone())
        return {"score": -abs(row["epoch"] - 3)}

    res = _fit_line(model, x, y, epochs=6, lr=0.1, validate=validate, best=BestWeights(model))
    assert res.best_epoch == 3 and len(res.history) == 6
    assert torch.equal(model.weight.detach(), snapshots[2])
    assert not torch.equal(snapshots[2], snapshots[-1])


def test_best_weights_can_be_written_instead_of_kept():
    _, _, model = _line()
    written = []
    keeper = BestWeights(model, save=lambda m, row: written.append(row["epoch"]),
                         in_memory=False)
    run_epochs(lambda e: {"loss": 1.0}, epochs=4, validate=lambda row: {"score": row["epoch"]},
               best=keeper)
    assert written == [1, 2, 3, 4] and keeper.state is None and not keeper.restore()


def test_a_nan_loss_stops_the_run_with_its_reason_and_keeps_the_best_epoch():
    x, y, model = _line()
    y_bad = y.clone()
    calls = {"n": 0}

    def validate(_row: dict) -> dict:
        return {"score": 1.0}

    def poisoned_epoch(epoch: int) -> dict:
        calls["n"] += 1
        target = y_bad if epoch == 3 else y
        if epoch == 3:
            target[5] = math.nan
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        steps = train_steps(model, [(x, target)],
                            lambda b: torch.nn.functional.mse_loss(model(b[0]), b[1]), opt,
                            epoch=epoch)
        return {"loss": steps.losses[0]}

    best = BestWeights(model)
    res = run_epochs(poisoned_epoch, epochs=10, validate=validate, best=best)
    assert calls["n"] == 3 and len(res.history) == 2  # the diverged epoch is not recorded
    assert res.reason == "diverged" and "NaN" in res.stopped and "epoch 3" in res.stopped
    assert res.best_epoch == 1 and torch.isfinite(model.weight).all()
    assert torch.equal(model.weight.detach(), best.state["weight"])


def test_exploding_weights_are_caught_even_when_the_last_loss_was_finite():
    x, y, model = _line()
    with pytest.raises(StopTraining) as stop:
        train_steps(model, [(x, 1e10 * y)],
                    lambda b: torch.nn.functional.mse_loss(model(b[0]), b[1]),
                    torch.optim.SGD(model.parameters(), lr=1e30), epoch=1)
    assert stop.value.reason == "diverged" and "weights" in stop.value.message


def test_a_stop_request_ends_the_run_after_the_current_step():
    x, y, model = _line()
    progress = []
    res = _fit_line(model, x, y, epochs=5, lr=0.1,
                    on_step=lambda epoch, step: progress.append((epoch, step)),
                    should_stop=lambda: len(progress) >= 6)
    assert progress == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)]
    assert len(res.history) == 1 and res.reason == "requested"
    assert res.stopped == "stopped on request" and res.reason in STOP_REASONS


def test_end_epoch_cuts_an_epoch_short_and_clipping_bounds_the_step():
    x, y, model = _line()
    res = _fit_line(model, x, y, epochs=2, lr=0.1, end_epoch=lambda: True)
    assert [r["steps"] for r in res.history] == [1, 1]
    x, y, model = _line()
    before = model.weight.detach().clone()
    _fit_line(model, x, 1000 * y, epochs=1, lr=1.0, clip_norm=0.01, end_epoch=lambda: True)
    assert (model.weight.detach() - before).abs().item() <= 0.01 + 1e-6


def test_a_per_step_scheduler_steps_once_per_batch():
    x, y, model = _line()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train_steps(model, [(x[:8], y[:8])] * 3,
                lambda b: torch.nn.functional.mse_loss(model(b[0]), b[1]), opt, scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 / 8)
