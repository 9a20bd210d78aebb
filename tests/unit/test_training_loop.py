"""The shared epoch loop: best tracking, patience, time budget, history while running."""

from __future__ import annotations

from core.training import History, run_epochs


def test_best_epochs_and_patience():
    scores = iter([0.1, 0.5, 0.4, 0.45, 0.3, 0.9])
    best, seen = [], []
    hist = History()
    out = run_epochs(lambda e: {"loss": 1.0 / e}, epochs=6,
                     validate=lambda row: {"val": next(scores), "had_loss": "loss" in row},
                     score_key="val", on_best=lambda row: best.append(row["epoch"]),
                     on_epoch=lambda row: seen.append(len(hist.epochs)), patience=3,
                     history=hist)
    assert out is hist
    assert best == [1, 2] and hist.best_epoch == 2 and hist.best_score == 0.5
    assert [r["epoch"] for r in hist.epochs] == [1, 2, 3, 4, 5]  # 3 flat epochs after the 2nd
    assert hist.stopped.startswith("early stop") and all(r["had_loss"] for r in hist.epochs)
    assert seen == [1, 2, 3, 4, 5]  # on_epoch sees the history with its row already in


def test_without_validation_or_patience_runs_every_epoch():
    hist = run_epochs(lambda e: {"loss": 1.0}, epochs=4)
    assert len(hist.epochs) == 4 and hist.best_epoch == -1 and hist.stopped == ""


def test_time_budget_stops_after_the_epoch_that_exceeds_it():
    hist = run_epochs(lambda e: {"loss": 1.0}, epochs=100, max_minutes=1e-9)
    assert len(hist.epochs) == 1 and "time budget" in hist.stopped
