"""Photo search: the pipeline (index, filters, colour re-rank), the recommenders that fuse
its scores, and its benchmark."""
