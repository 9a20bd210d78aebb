"""Explorer core without a database: projections, clusters, k suggestion, placement, exports."""

from __future__ import annotations

import io
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import adjusted_rand_score

from core.explore import (
    ClusterSummary,
    ExploreMap,
    MapParams,
    Placement,
    ProjectionParams,
    assignments_csv,
    breakdown,
    cluster,
    garment_colour,
    groups,
    project,
    render_png,
    scatter_figure,
    selected_rows,
    suggest_k,
    summarise,
    summary_frame,
)
from core.explore.bench import synthetic_vectors
from core.explore.progress import thread_stdout
from core.explore.projection import nearest, place_by_neighbours, place_linear, reduce

TRUE_K = 5


@pytest.fixture(scope="module")
def blobs():
    unit, labels = synthetic_vectors(400, dim=64, centers=TRUE_K, spread=0.8, seed=3)
    return unit, labels, reduce(unit)


def test_kmeans_recovers_known_clusters(blobs):
    unit, labels, features = blobs
    result = cluster(features, TRUE_K, seed=0)
    assert adjusted_rand_score(labels, result.labels) >= 0.9
    assert result.silhouette is not None and result.silhouette > 0.2
    # representatives are members of their cluster, nearest the centroid first
    for c, reps in enumerate(result.representatives):
        assert reps and all(result.labels[r] == c for r in reps)


def test_silhouette_suggests_the_true_number_of_clusters(blobs):
    _, _, features = blobs
    sug = suggest_k(features, k_min=2, k_max=9, seed=0)
    assert sug.k == TRUE_K
    assert set(sug.scores) == set(range(2, 10))
    assert sug.scores[TRUE_K] == max(sug.scores.values())


def _knn_purity(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    d = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    return float((labels[nn] == labels[:, None]).mean())


def test_tsne_keeps_clusters_apart_and_reports_progress(blobs, capsys):
    unit, labels, features = blobs
    seen: list[tuple[float, str]] = []
    proj = project(unit, ProjectionParams("tsne", perplexity=20, iterations=300, seed=1),
                   progress=lambda f, m: seen.append((f, m)), features=features)
    assert proj.coords.shape == (len(unit), 2) and proj.method == "tsne"
    assert _knn_purity(proj.coords, labels) > 0.95
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("iteration 300/300" in m for _, m in seen)
    assert "[t-SNE]" not in capsys.readouterr().out  # scikit-learn's log never reaches stdout


def test_thread_stdout_routes_only_this_threads_lines():
    original = sys.stdout
    lines: list[str] = []
    with thread_stdout(lines.append):
        print("first line")  # noqa: T201 (the print path is what is tested)
        print("second", end="")  # noqa: T201
        print(" half")  # noqa: T201
    assert lines == ["first line", "second half"]
    assert sys.stdout is original


def test_pca_projection_and_linear_placement(blobs):
    unit, _, _ = blobs
    proj = project(unit, ProjectionParams("pca"))
    assert proj.coords.shape == (len(unit), 2)
    assert np.allclose(place_linear(proj.mean, proj.components, unit[7] * 3.0),
                       proj.coords[7], atol=1e-4)  # scale does not matter: vectors are normalised


def test_neighbour_placement_lands_in_the_right_island(blobs):
    unit, labels, features = blobs
    coords = project(unit, ProjectionParams("tsne", iterations=300), features=features).coords
    rng = np.random.default_rng(0)
    probe = unit[11] + rng.normal(size=unit.shape[1]) * 0.02  # a new photo of item 11's kind
    rows, sims = nearest(unit, probe, k=10)
    assert rows[0] == 11 and np.all(np.diff(sims) <= 1e-6)
    xy = place_by_neighbours(coords, rows, sims)
    centroids = np.stack([coords[labels == c].mean(0) for c in range(TRUE_K)])
    assert np.argmin(((centroids - xy) ** 2).sum(1)) == labels[11]


@pytest.mark.parametrize("bad", [ProjectionParams("umap"), ProjectionParams(perplexity=1),
                                 ProjectionParams(iterations=10)])
def test_projection_params_are_validated(bad):
    with pytest.raises(ValueError):
        bad.validate()


def test_summaries_name_dominant_values():
    labels = np.array([0, 0, 0, 1, 1])
    attrs = {"category": ["dress", "dress", "tee", "jeans", "jeans"],
             "color": ["red", "unknown", "red", "blue", "navy"]}
    out = summarise(labels, attrs, [["a"], ["d", "e"]])
    assert [s.size for s in out] == [3, 2]
    assert out[0].top["category"] == ("dress", pytest.approx(2 / 3))
    assert out[0].top["color"] == ("red", pytest.approx(2 / 3))
    assert out[1].representatives == ["d", "e"]
    assert out[0].to_dict()["top"]["category"]["value"] == "dress"


def test_garment_colours_use_real_colours():
    assert garment_colour("red").startswith("#") and garment_colour("red") != garment_colour("navy")
    assert garment_colour("light blue") is not None
    assert garment_colour("no-such-colour") is None


def _toy_map(n: int = 30) -> ExploreMap:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({
        "sku": [f"S{i}" for i in range(n)], "name": [f"item {i}" for i in range(n)],
        "category": ["dress", "tee", "jeans"] * (n // 3),
        "color": ["red", "navy", "mystery"] * (n // 3), "pattern": ["solid"] * n,
        "season": ["summer"] * n, "cluster": np.arange(n) % 3,
        "x": rng.normal(size=n).astype(np.float32), "y": rng.normal(size=n).astype(np.float32),
    })
    summaries = [ClusterSummary(c, n // 3, 1 / 3, {"category": ("dress", 1.0),
                                                    "color": ("red", 1.0)}) for c in range(3)]
    return ExploreMap("toy", 1, n, MapParams("pca", clusters=3), table, [], summaries, 0.5, 0.1,
                      False)


def test_groups_colour_by_garment_colour_with_fallback():
    by_color = {g.value: g for g in groups(_toy_map().table, "color")}
    assert by_color["red"].colour == garment_colour("red")
    assert by_color["mystery"].colour.startswith("#")  # unknown names get a palette colour
    assert [g.value for g in groups(_toy_map().table, "cluster")] == ["0", "1", "2"]
    with pytest.raises(ValueError):
        groups(_toy_map().table, "price")


def test_figure_traces_carry_rows_for_selection():
    emap = _toy_map()
    fig = scatter_figure(emap, "category", Placement(0.1, 0.2, 1, [0, 1], [0.9, 0.8]))
    assert [t.type for t in fig.data] == ["scattergl"] * 3 + ["scatter"]
    assert fig.layout.dragmode == "zoom"  # a click selects a point only outside lasso / box
    rows = sorted(int(r[0]) for t in fig.data[:3] for r in t.customdata)
    assert rows == list(range(emap.n))
    points = [{"customdata": list(fig.data[1].customdata[0])},
              {"customdata": [-1, "your photo"]}, {"point_index": 3},
              {"customdata": list(fig.data[1].customdata[0])}]
    assert selected_rows(points) == [int(fig.data[1].customdata[0][0])]


def test_tables_and_exports():
    emap = _toy_map()
    frame = summary_frame(emap)
    assert list(frame["cluster"]) == [0, 1, 2] and frame.loc[0, "category"] == "dress (100%)"
    b = breakdown(emap.table, [0, 3, 6, 1], "category")
    assert b.iloc[0]["category"] == "dress" and b.iloc[0]["count"] == 3
    csv = pd.read_csv(io.StringIO(assignments_csv(emap)))
    assert len(csv) == emap.n and {"sku", "cluster", "x", "y", "color"} <= set(csv.columns)
    png = render_png(emap, "color", Placement(0.0, 0.0, 0, [], []), dpi=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(io.BytesIO(png)).size[0] > 100


def test_thumbnail_uri_and_example_column(tmp_path):
    import base64

    from core.explore.thumbs import thumbnail_uri

    Image.new("RGB", (300, 150), (200, 30, 40)).save(tmp_path / "a.png")
    uri = thumbnail_uri(tmp_path / "a.png", size=64)
    prefix = "data:image/jpeg;base64,"
    assert uri.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(uri[len(prefix):]))) as thumb:
        assert thumb.size == (64, 32)
    assert thumbnail_uri(tmp_path / "missing.jpg") is None
    frame = summary_frame(_toy_map(), {0: uri})
    assert list(frame.columns)[:2] == ["example", "cluster"]
    assert frame.loc[0, "example"] == uri and pd.isna(frame.loc[1, "example"])


def test_tsne_takes_only_idle_cores(monkeypatch):
    import core.explore.projection as projection

    monkeypatch.setattr(projection.os, "cpu_count", lambda: 4)
    for load, expected in ((0.0, 4), (1.2, 3), (3.9, 1), (12.0, 1)):
        monkeypatch.setattr(projection.os, "getloadavg", lambda load=load: (load, load, load))
        assert projection.idle_cores() == expected


def test_colouring_by_every_category_never_repeats_a_colour():
    from core.explore.colours import UNKNOWN
    from core.tagging.lab import delta_e2000, to_lab
    from core.taxonomy import CATEGORIES

    cats = list(CATEGORIES)
    table = pd.DataFrame({"category": [c for i, c in enumerate(cats) for _ in range(40 - i)]
                          + ["unknown"] * 3})
    colours = [g.colour for g in groups(table, "category")]
    assert len(colours) == len(cats) + 1 and colours[-1] == UNKNOWN
    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in colours], dtype=float)
    lab = to_lab(rgb)
    gaps = [float(delta_e2000(lab[i:i + 1], lab[j:j + 1])[0])
            for i in range(len(lab)) for j in range(i + 1, len(lab))]
    assert min(gaps) >= 12  # told apart at a glance, the "unknown" grey included


def test_png_legend_star_is_no_bigger_than_the_other_entries():
    from core.explore import map_figure

    fig = map_figure(_toy_map(), "category", Placement(0.1, 0.2, 1, [0, 1], [0.9, 0.8]))
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()][-1] == "your photo"
    sizes = {float(h.get_sizes()[0]) for h in legend.legend_handles}
    assert len(sizes) == 1
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in legend.get_texts()]
    assert all(a.y1 <= b.y0 + 0.5 or b.y1 <= a.y0 + 0.5  # entries stay on their own rows
               for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_placed_photo_is_described_by_its_neighbours_and_their_cluster():
    from core.explore import describe_placement

    emap = _toy_map()  # categories cycle dress, tee, jeans; clusters cycle 0, 1, 2
    emap.table.loc[[3, 6, 9], "category"] = "hat"  # three hats in the dresses' cluster 0
    spot = Placement(0.0, 0.0, 0, [3, 6, 9, 0, 1], [0.9, 0.88, 0.86, 0.7, 0.6])
    text = describe_placement(emap, spot)
    assert text.startswith("Nearest items: hat ×3, dress ×1, tee ×1")
    assert "in cluster 0 with 4 of them" in text
    assert "mostly dress 70%, hat 30%" in text  # the cluster's make-up beside the neighbours


@pytest.mark.slow
def test_large_maps_use_fft_tsne_and_fall_back_without_it(blobs, monkeypatch):
    import core.explore.projection as projection

    unit, labels, features = blobs
    params = ProjectionParams("tsne", perplexity=20, iterations=300, seed=1)
    monkeypatch.setattr(projection, "FFT_MIN_POINTS", 100)  # 400 points: "large"
    used: list[str] = []
    for name in ("tsne", "tsne_fft"):
        real = getattr(projection, name)
        monkeypatch.setattr(projection, name, lambda *a, _real=real, _name=name, **kw:
                            used.append(_name) or _real(*a, **kw))
    seen: list[tuple[float, str]] = []
    proj = project(unit, params, progress=lambda f, m: seen.append((f, m)), features=features)
    assert used == ["tsne_fft"] and proj.coords.shape == (len(unit), 2)
    assert np.isfinite(proj.coords).all() and _knn_purity(proj.coords, labels) > 0.95
    assert any("iteration 300/300" in m for _, m in seen)
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # not installed: scikit-learn's
    fallback = project(unit, params, features=features)
    assert used[-1] == "tsne" and _knn_purity(fallback.coords, labels) > 0.95


def test_the_map_caption_explains_the_silhouette_only_when_there_is_one():
    from core.explore import map_caption

    emap = _toy_map()
    text, why = map_caption(replace(emap, silhouette=0.08), "m")
    assert text.endswith("· silhouette 0.08") and "stand apart" in why
    text, why = map_caption(replace(emap, silhouette=None), "m")
    assert "silhouette" not in text and why is None
