"""Transcript files: reading uploads into normalised plain text (no Flask, no database)."""
