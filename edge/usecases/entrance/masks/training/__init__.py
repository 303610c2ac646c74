"""Reproducible training of the project's mask head (see models/cards/anshin_mask_head.md)."""
