"""The labelled shelf photos (media/empty_shelf) and their grouped split.

Every photo of the original Roboflow training split appears three times as augmented variants, so
the split key is the source photo (the file name before ``.rf.``): all variants of one photo stay on
one side. ``held_out`` is decided by a salted hash of that key, so it never depends on file order.

>>> held_out("1-100_jpg") in (True, False)
True
>>> source_photo("1-100_jpg.rf.abc.jpg")
'1-100_jpg'
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SALT = "anshin-shelf-holdout-v1:"
HOLDOUT_MODULUS = 5  # one photo in five (by hash) is kept back from training


def source_photo(file_name: str) -> str:
    """The photo a Roboflow variant was made from."""
    return file_name.split(".rf.")[0]


def held_out(photo: str) -> bool:
    """Whether a source photo is kept back from gap-detector training (grouped, deterministic)."""
    return int(hashlib.sha256((SALT + photo).encode("utf-8")).hexdigest(), 16) % HOLDOUT_MODULUS == 0


@dataclass(frozen=True)
class LabelledPhoto:
    """One labelled photo: its path, source photo and truth boxes (x1, y1, x2, y2 pixels)."""

    path: Path
    photo: str
    boxes: np.ndarray  # (n, 4) float32

    @property
    def held_out(self) -> bool:
        return held_out(self.photo)


def read_label(path: Path, width: int, height: int) -> np.ndarray:
    """YOLO label file (polygons or boxes, normalised) -> axis-aligned pixel boxes (n, 4)."""
    boxes = []
    for line in path.read_text().splitlines():
        values = [float(v) for v in line.split()[1:]]
        if not values:
            continue
        if len(values) == 4:
            cx, cy, w, h = values
            x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        else:
            xs, ys = values[0::2], values[1::2]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
        boxes.append([x1 * width, y1 * height, x2 * width, y2 * height])
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def load(dataset: Path) -> list[LabelledPhoto]:
    """Every labelled photo of an ``empty_shelf``-style folder (images/, labels/, sources.csv optional)."""
    images = dataset / "images"
    if not images.is_dir():
        raise FileNotFoundError(f"{dataset}: no images/ folder (expected a YOLO dataset: images/ and labels/)")
    sizes: dict[str, tuple[int, int]] = {}
    sources = dataset / "sources.csv"
    if sources.exists():
        with sources.open(newline="") as f:
            for row in csv.DictReader(f):
                sizes[row["file"]] = (int(row["width"]), int(row["height"]))
    photos = []
    for image in sorted(images.glob("*.jpg")):
        label = dataset / "labels" / f"{image.stem}.txt"
        if not label.exists():
            raise FileNotFoundError(f"{image.name}: no label file {label}")
        if image.name in sizes:
            width, height = sizes[image.name]
        else:
            import cv2  # only for folders without sources.csv

            h, w = cv2.imread(str(image)).shape[:2]
            width, height = w, h
        photos.append(LabelledPhoto(image, source_photo(image.name), read_label(label, width, height)))
    if not photos:
        raise FileNotFoundError(f"{images}: no .jpg photos")
    return photos
