"""CLI flags take their defaults from the config dataclasses; `simulate` is the older name of
`customers`."""

from __future__ import annotations

from dataclasses import fields

import pytest

from core.cli import build_parser
from core.customers.params import SimulationConfig
from core.feedback.train_config import CombinerTrainConfig
from core.modelhub.params import FineTuneParams
from core.models.train_config import EncoderTrainConfig
from core.outfits.train_config import CompatibilityTrainConfig

# flag dest -> config field where the two names differ
SIM_FIELDS = {"distance_scale": "distance_scale_km"}


def test_customer_simulation_flags_default_to_the_simulation_config():
    cfg = SimulationConfig()
    for argv in (["customers", "simulate"], ["customers"]):
        args = build_parser().parse_args(argv)
        for f in fields(SimulationConfig):
            dest = next((d for d, name in SIM_FIELDS.items() if name == f.name), f.name)
            assert getattr(args, dest) == getattr(cfg, f.name), (argv, f.name)


def test_flags_given_before_or_after_simulate_both_count():
    parser = build_parser()
    before = parser.parse_args(["customers", "--seed", "3", "simulate", "--num-customers", "4"])
    assert (before.seed, before.num_customers, before.days) == (3, 4, SimulationConfig().days)


def test_simulate_is_the_older_name_of_customers():
    parser = build_parser()
    new = parser.parse_args(["customers", "simulate", "--num-customers", "4"])
    old = parser.parse_args(["simulate", "--num-customers", "4"])
    assert old.handler is new.handler and old.num_customers == new.num_customers == 4
    listed = parser.parse_args(["customers", "list"])
    assert listed.handler is parser.parse_args(["simulate", "customers"]).handler
    assert (parser.parse_args(["eval", "simulate"]).handler
            is parser.parse_args(["eval", "customers"]).handler)


def test_encoder_training_flags_default_to_the_training_config():
    args = build_parser().parse_args(["train", "encoder"])
    cfg = EncoderTrainConfig()
    shared = {f.name for f in fields(EncoderTrainConfig)} & set(vars(args))
    assert {"epochs", "lr", "batch_size", "item_triplet_on", "cache_views", "seed"} <= shared
    # store_true flags are off unless given; --device defaults to the DEVICE setting
    for name in shared - {"heads_only", "tail_only", "device"}:
        assert getattr(args, name) == getattr(cfg, name), name


@pytest.mark.parametrize("argv,cls", [
    (["models", "train"], FineTuneParams),
    (["train", "feedback"], CombinerTrainConfig),
    (["train", "compat"], CompatibilityTrainConfig),
])
def test_training_flags_default_to_their_configs(argv, cls):
    args = build_parser().parse_args(argv)
    shared = {f.name for f in fields(cls)} & set(vars(args))
    assert {"epochs", "batch_size", "lr"} <= shared
    defaults = cls()
    for name in shared - {"device"}:  # --device defaults to the DEVICE setting
        assert getattr(args, name) == getattr(defaults, name), name


def test_out_of_range_fine_tune_flags_are_refused_before_anything_starts(capsys):
    from core.cli import main

    assert main(["models", "train", "--epochs", "201"]) == 2
    assert "epochs must be in [1, 200] (got 201)" in capsys.readouterr().err
