"""Mask-wearing classification for the entrance (use case A): face crop in, P(mask) out."""
