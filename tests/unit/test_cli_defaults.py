"""CLI flags take their defaults from the config dataclasses; `customers` names `simulate`."""

from __future__ import annotations

from dataclasses import fields

from core.cli import build_parser
from core.customers.params import SimulationConfig
from core.models.train_config import EncoderTrainConfig

# flag dest -> config field where the two names differ
SIM_FIELDS = {"distance_scale": "distance_scale_km"}


def test_simulate_flags_default_to_the_simulation_config():
    args = build_parser().parse_args(["simulate"])
    cfg = SimulationConfig()
    for f in fields(SimulationConfig):
        dest = next((d for d, name in SIM_FIELDS.items() if name == f.name), f.name)
        assert getattr(args, dest) == getattr(cfg, f.name), f.name


def test_customers_is_another_name_for_simulate():
    parser = build_parser()
    plain = parser.parse_args(["simulate", "--num-customers", "4"])
    alias = parser.parse_args(["customers", "--num-customers", "4"])
    assert alias.handler is plain.handler and alias.num_customers == 4
    listed = parser.parse_args(["customers", "customers"])
    assert listed.handler is parser.parse_args(["simulate", "customers"]).handler


def test_encoder_training_flags_default_to_the_training_config():
    args = build_parser().parse_args(["train", "encoder"])
    cfg = EncoderTrainConfig()
    shared = {f.name for f in fields(EncoderTrainConfig)} & set(vars(args))
    assert {"epochs", "lr", "batch_size", "item_triplet_on", "cache_views", "seed"} <= shared
    # store_true flags are off unless given; --device defaults to the DEVICE setting
    for name in shared - {"heads_only", "tail_only", "device"}:
        assert getattr(args, name) == getattr(cfg, name), name
