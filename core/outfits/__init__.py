"""Outfits: learned compatibility of garments, outfit scores, fill-in-the-blank and
complete-the-look over the catalog."""
