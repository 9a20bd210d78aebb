"""Demo catalog: rendered garments with ground-truth attributes, outfits and feedback pairs.

``build_catalog`` writes a complete catalog folder; ``render_item`` draws one item (any
variant). The categories, colours and patterns it samples from are the product's, in
:mod:`core.taxonomy`.
"""

from core.demo.build import build_catalog, read_manifest
from core.demo.render import render_item

__all__ = ["build_catalog", "read_manifest", "render_item"]
