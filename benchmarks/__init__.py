"""Reproducible measurements of clippings against the open-source baselines, side by side."""
