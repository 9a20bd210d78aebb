"""The catalog summary's lines as the Home page shows them."""


def test_the_home_page_says_in_plain_words_where_similar_items_are_found():
    from core.catalog_info import index_caption

    assert "Atlas Vector Search" in index_caption(
        "vector index: MongoDB $vectorSearch (index 'vectors', INDEX_KIND=auto)")
    assert "INDEX_KIND" in index_caption("vector index: in-process (INDEX_KIND=exact)")
    assert "offers no vector search" in index_caption(
        "vector index: in-process (server has no $vectorSearch: OperationFailure: …)")
    assert "until the server's vector search is ready" in index_caption(
        "vector index: in-process (no vectors of model 'm' yet)")
