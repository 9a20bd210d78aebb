"""Home for a newcomer: the database address without its password, and where to go next."""

from __future__ import annotations

import core.catalog_info


def _texts(at) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.success, *at.caption,
                                            *at.subheader])


def test_home_masks_the_database_password(app_test, small_catalog, monkeypatch):
    small_catalog(6)
    real = core.catalog_info.catalog_summary

    def with_credentials(repo, cfg):
        summary = real(repo, cfg)
        summary["database"]["uri"] = "mongodb://shop:hunter2@db.example:27017/"
        return summary

    monkeypatch.setattr(core.catalog_info, "catalog_summary", with_credentials)
    at = app_test("home.py").run()
    assert not at.exception
    text = _texts(at)
    assert "hunter2" not in text
    assert "mongodb://shop:***@db.example:27017/" in text
    # the embedded server has no $vectorSearch: searches run on the in-process index
    assert "found in this app's memory: this MongoDB server offers no vector search" in text
    helps = " ".join(str(c.help) for c in at.caption)
    assert "Vector index: in-process (server has no \\$vectorSearch: " in helps


def test_home_says_where_to_start(app_test, small_catalog):
    small_catalog(6)
    at = app_test("home.py").run()
    assert not at.exception
    text = _texts(at)
    assert "Start here" in text
    for page in ("Search", "Refine", "Outfits", "Explore"):
        assert f"**{page}**" in text  # a page link; its name in bold outside app.py
