"""Detector backends, one module each; :func:`edge.detectors.create_detector` imports them by ``type``."""
