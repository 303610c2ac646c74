"""Composition root: the ``anshin`` console script, the demo and the benchmarks.

Edge and central never import each other; only this package wires them together.
"""
