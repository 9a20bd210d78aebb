"""The bad-input corpus through every door: `ingest`, `search` with a photo and the Search
page's uploader path (SearchEngine.search_image with the uploaded bytes and name). Each case
is refused with its message and exit code 2, and the database and image store are unchanged."""

from __future__ import annotations

import pytest

from core.cli import main
from core.images import ImageRejected
from core.models.embed import Embedder, embed_catalog
from core.models.studio import new_encoder, save_checkpoint
from core.search.pipeline import SearchEngine
from tests.fixtures_bad import BAD_CASES, BadCase

PHOTO_CASES = [c for c in BAD_CASES if "search" in c.channels]
UPLOAD_CASES = [c for c in BAD_CASES if "upload" in c.channels]


def snapshot(repo, settings) -> dict:
    """What a refused input must not change: items, vectors, documents, stored files."""
    root = settings.data_dir
    return {
        "items": sorted((it.sku, it.hash, it.category, repr(it.attrs), it.name)
                        for it in repo.iter_items()),
        "vectors": {m: repo.vector_count(m) for m in repo.model_ids()},
        "journal": repo.count_docs("ingest_journal"),
        "version": repo.catalog_version(),
        "files": sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()),
    }


@pytest.fixture
def catalog(repo, settings, cli_settings, small_catalog):
    """Six stored items (the state every case must leave as it was)."""
    small_catalog(6)
    return settings


@pytest.fixture
def search_catalog(catalog, repo):
    """The catalog embedded by a tiny encoder saved as the studio weights (search can run)."""
    save_checkpoint(new_encoder(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1)),
                    catalog.weights_dir / "studio_encoder.pt")
    embed_catalog(repo, catalog, "studio_encoder", workers=0,
                  embedder=Embedder("studio_encoder", catalog))
    return catalog


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def case_path(case: BadCase, tmp_path):
    root = tmp_path / "case"
    root.mkdir()
    return case.build(root)


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.id)
def test_ingest_refuses(case, catalog, repo, capsys, tmp_path):
    path = case_path(case, tmp_path)
    before = snapshot(repo, catalog)
    code, text = run(capsys, "ingest", str(path))
    assert code == 2, text
    assert case.message in text, text
    assert "Traceback" not in text
    assert snapshot(repo, catalog) == before


@pytest.mark.parametrize("case", PHOTO_CASES, ids=lambda c: c.id)
def test_search_refuses_query_photo(case, search_catalog, repo, capsys, tmp_path):
    path = case_path(case, tmp_path)
    before = snapshot(repo, search_catalog)
    code, text = run(capsys, "search", str(path), "--json")
    assert code == 2, text
    assert case.message.removeprefix("rejected ") in text, text
    assert snapshot(repo, search_catalog) == before


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=lambda c: c.id)
def test_upload_refused_like_ingest(case, search_catalog, repo, tmp_path):
    path = case_path(case, tmp_path)
    before = snapshot(repo, search_catalog)
    engine = SearchEngine(search_catalog)
    with pytest.raises(ImageRejected) as info:
        engine.search_image(repo, path.read_bytes(), name=path.name)
    assert case.message in str(info.value)
    assert snapshot(repo, search_catalog) == before


def test_corpus_covers_every_door():
    assert len(BAD_CASES) >= 30
    assert len(PHOTO_CASES) >= 10 and len(UPLOAD_CASES) >= 10
