"""Training tools for detectors: not imported by the worker (they need torch and ultralytics' trainer)."""
