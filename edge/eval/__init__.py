"""Evaluation commands that regenerate the figures in the model cards (``anshin eval ...``)."""
