"""The catalog summary's lines as the Home page shows them."""

from core.catalog_info import index_caption
from core.index.mongo import IndexStatus


def test_the_home_page_says_in_plain_words_where_similar_items_are_found():
    def caption(where: str, cause: str = "") -> str:
        return index_caption(IndexStatus(where, cause, "vector index: …"))

    assert "Atlas Vector Search" in caption("server")
    assert "INDEX_KIND" in caption("memory", "setting")
    assert "offers no vector search" in caption("memory", "unsupported")
    assert "until the server's vector search is ready" in caption("memory", "pending")
