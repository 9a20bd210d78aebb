"""Neighbour-vote category prediction and its fusion with the classifier, on tiny vectors."""

from __future__ import annotations

import numpy as np
import pytest

from core.models.neighbour_vote import (
    fuse,
    fused_prediction,
    neighbour_votes,
    ranked,
    topk_accuracy,
)

CLASSES = ["hat", "shoes", "skirt"]


def _vec(deg: float) -> list[float]:
    """A unit vector in the plane at ``deg`` degrees from the x axis."""
    r = np.deg2rad(deg)
    return [float(np.cos(r)), float(np.sin(r))]


def test_votes_are_weighted_by_cosine_similarity():
    # neighbours at cos 1.0 (hat), cos 0.8 (shoes), cos 0.6 (shoes); k = 3 keeps all three
    g = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])
    votes = neighbour_votes(np.array([[1.0, 0.0]]), g, ["hat", "shoes", "shoes"], CLASSES, k=3)
    np.testing.assert_allclose(votes, [[1.0 / 2.4, 1.4 / 2.4, 0.0]])
    assert votes.sum() == pytest.approx(1.0)


def test_only_the_k_nearest_vote_and_vectors_need_not_be_unit():
    g = np.array([_vec(0), _vec(10), _vec(80)]) * np.array([[3.0], [0.5], [2.0]])
    votes = neighbour_votes(np.array([[5.0, 0.0]]), g, ["hat", "hat", "skirt"], CLASSES, k=2)
    np.testing.assert_allclose(votes, [[1.0, 0.0, 0.0]])


def test_neighbours_pointing_away_have_no_weight():
    g = np.array([_vec(0), _vec(180)])
    votes = neighbour_votes(np.array([_vec(0)]), g, ["hat", "skirt"], CLASSES, k=10)
    np.testing.assert_allclose(votes, [[1.0, 0.0, 0.0]])
    # only opposite neighbours: no vote at all, and the fusion keeps the classifier
    votes = neighbour_votes(np.array([_vec(0)]), g[1:], ["skirt"], CLASSES, k=10)
    assert not votes.any()
    probs = np.array([[0.2, 0.7, 0.1]])
    np.testing.assert_allclose(fuse(probs, votes), probs)


def test_tied_votes_split_evenly_and_the_classifier_breaks_the_tie():
    g = np.array([_vec(30), _vec(-30)])  # equally similar to the query
    votes = neighbour_votes(np.array([_vec(0)]), g, ["shoes", "skirt"], CLASSES, k=2)
    np.testing.assert_allclose(votes, [[0.0, 0.5, 0.5]])
    fused = fuse(np.array([[0.1, 0.4, 0.5]]), votes)
    assert ranked(fused, CLASSES, 1)[0][0][0] == "skirt"
    fused = fuse(np.array([[0.1, 0.5, 0.4]]), votes)
    assert ranked(fused, CLASSES, 1)[0][0][0] == "shoes"


def test_equal_similarities_at_the_cut_take_the_earlier_gallery_item():
    g = np.array([_vec(0), _vec(20), _vec(-20)])  # the last two tie for the second place
    votes = neighbour_votes(np.array([_vec(0)]), g, ["hat", "shoes", "skirt"], CLASSES, k=2)
    assert votes[0, 1] > 0 and votes[0, 2] == 0


def test_empty_gallery_leaves_the_classifier_alone():
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    classes, fused, votes = fused_prediction(probs, CLASSES, np.array([_vec(0), _vec(90)]),
                                             np.zeros((0, 2)), [])
    assert classes == CLASSES
    assert not votes.any()
    np.testing.assert_allclose(fused, probs)


def test_fusion_is_the_average_of_classifier_and_vote():
    probs = np.array([[0.6, 0.3, 0.1]])
    votes = np.array([[0.0, 1.0, 0.0]])
    np.testing.assert_allclose(fuse(probs, votes), [[0.3, 0.65, 0.05]])
    np.testing.assert_allclose(fuse(probs, votes, weight=0.25), [[0.45, 0.475, 0.075]])


def test_a_category_the_classifier_does_not_know_can_win_on_the_vote():
    probs = np.array([[0.6, 0.3, 0.1]])
    g = np.array([_vec(0), _vec(5), _vec(10), _vec(90)])
    classes, fused, votes = fused_prediction(probs, CLASSES, np.array([_vec(0)]), g,
                                             ["scarf", "scarf", "scarf", "hat"], k=3)
    assert classes == CLASSES + ["scarf"]
    np.testing.assert_allclose(votes, [[0.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(fused, [[0.3, 0.15, 0.05, 0.5]])
    assert ranked(fused, classes, 2) == [[("scarf", 0.5), ("hat", 0.3)]]


def test_gallery_labels_must_be_among_the_classes():
    with pytest.raises(KeyError):
        neighbour_votes(np.array([_vec(0)]), np.array([_vec(0)]), ["scarf"], CLASSES)


def test_topk_counts_only_positive_scores():
    votes = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    truth = np.array([0, 0])  # "hat": ranked second and first among zeros, never voted for
    assert topk_accuracy(votes, truth, 3) == 0.0
    assert topk_accuracy(np.array([[0.2, 0.5, 0.3]]), np.array([0]), 2) == 0.0
    assert topk_accuracy(np.array([[0.2, 0.5, 0.3]]), np.array([0]), 3) == 1.0
    assert ranked(votes, CLASSES, 3) == [[("shoes", 1.0)], []]


def test_vote_figures_on_folder_classes():
    """`eval classify`'s vote figures: folder classes scored by the sum of their catalog
    categories; here the classifier is always wrong and two clean neighbours always right."""
    from core.models.evaluate import vote_figures
    from core.models.labels import CATEGORY_NAMES

    probs = np.zeros((2, len(CATEGORY_NAMES)))
    probs[0, CATEGORY_NAMES.index("sneakers")] = 0.7  # a hat read as shoes
    probs[0, CATEGORY_NAMES.index("hat")] = 0.3
    probs[1, CATEGORY_NAMES.index("hat")] = 1.0  # shoes read as a hat
    q = np.array([_vec(0), _vec(90)])
    g = np.array([_vec(0), _vec(2), _vec(90), _vec(88)])
    out = vote_figures(probs, ["hat", "shoes"], q, g, ["hat", "hat", "shoes", "shoes"])
    assert out["knn_top1"] == 1.0 and out["knn_top3"] == 1.0
    # k = 10 > 4 takes all four; the far pair weighs ~0, so each vote is ~0.98 the true class.
    # The hat: 0.5 * 0.3 + 0.5 * 0.98 beats shoes' 0.5 * 0.7. The shoes: the classifier's
    # certain hat, 0.5 * 1.0 plus a sliver of vote, still beats 0.5 * 0.98 for shoes.
    assert out["fused_top1"] == 0.5 and out["fused_top3"] == 1.0
    assert out["gallery"] == 4
