"""A mask dataset folder (``with_mask/`` and ``without_mask/``), its duplicate groups and slices.

facemask_dev holds byte-identical and near-identical copies of the same picture; a split that
puts one copy in training and another in validation overstates accuracy. :func:`duplicate_groups`
joins images whose 64-bit difference hash differs in at most ``max_distance`` bits, so grouped
cross-validation keeps every copy on one side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

CLASSES = ("with_mask", "without_mask")  # label 1 = with_mask, 0 = without_mask
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True, slots=True)
class Item:
    path: Path
    label: int  # 1 with_mask, 0 without_mask


def list_items(root: Path) -> list[Item]:
    """Every image under ``root/with_mask`` and ``root/without_mask``, sorted by path for reproducibility."""
    items: list[Item] = []
    for name in CLASSES:
        folder = root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: missing; a mask dataset needs with_mask/ and without_mask/ folders")
        label = 1 if name == "with_mask" else 0
        items += [Item(p, label) for p in sorted(folder.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not items:
        raise FileNotFoundError(f"{root}: no images found under with_mask/ or without_mask/")
    return items


def read_image(path: Path) -> np.ndarray:
    """BGR uint8; PNG alpha is composited onto white like facemask_dev's derivation."""
    data = np.fromfile(str(path), np.uint8)  # fromfile + imdecode copes with non-ASCII names
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1.0, float(img.max())))
    return img


def dhash64(image: np.ndarray) -> int:
    """64-bit difference hash of a BGR image (9x8 grey, horizontal gradient signs)."""
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    bits = (grey[:, 1:] > grey[:, :-1]).reshape(-1)
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def duplicate_groups(hashes: list[int], digests: list[str], max_distance: int = 4) -> npt.NDArray[np.int64]:
    """(n,) group id per image: same sha256 or dHash within ``max_distance`` bits → same group."""
    n = len(hashes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    first: dict[str, int] = {}
    for i, d in enumerate(digests):
        if d in first:
            union(i, first[d])
        else:
            first[d] = i
    h = np.array(hashes, dtype=np.uint64)
    for i in range(n):
        x = np.bitwise_xor(h[i + 1 :], h[i])
        dist = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        for j in np.flatnonzero(dist <= max_distance):
            union(i, i + 1 + int(j))
    roots = [find(i) for i in range(n)]
    _, ids = np.unique(roots, return_inverse=True)
    return ids.astype(np.int64)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
