"""Automatic garment tags read from pixels: colour now, more attributes at ingest."""
