"""Outfits: learned compatibility of garments (seed 002), outfit scores, fill-in-the-blank and
complete-the-look over the catalog."""
