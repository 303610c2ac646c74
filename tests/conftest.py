"""Suite-wide settings: offline ultralytics, shared data locations."""

import os
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("YOLO_VERBOSE", "false")

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_CONFIG_DIR", str(ROOT / ".venv" / "ultralytics-config"))

# Property-based tests (Hypothesis): CI runs a fixed sequence of examples, so a red build names a
# change and not the luck of the draw; developers' runs explore new examples each time.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
