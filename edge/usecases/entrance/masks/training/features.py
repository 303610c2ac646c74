"""Extract, once, everything training and the option comparison need from a mask dataset folder.

For each image: YuNet faces → the main subject (largest face with margin, else whole image),
MobileNetV2 pooled features of the subject, its mirror image, the whole image and its mirror,
the original MobileNetV2 and AIZOO probabilities, and the hashes for duplicate grouping.
The result is one ``.npz`` (not committed; regenerate with the command below).

    python -m edge.usecases.entrance.masks.training.features --dataset ../shared/data/media/facemask_dev --out var/mask/facemask_dev.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edge.faces import YuNetFaceDetector
from edge.usecases.entrance.masks.aizoo import AizooMaskDetector
from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier
from edge.usecases.entrance.masks.pipeline import main_subject
from edge.usecases.entrance.masks.training.dataset import dhash64, list_items, read_image, sha256_file


def extract(dataset: Path, out: Path, limit: int | None = None) -> None:
    cv2.setNumThreads(1)  # the development machines share two cores
    items = list_items(dataset)[:limit] if limit else list_items(dataset)
    faces_det, mnv2, aizoo = YuNetFaceDetector(), MobileNetV2MaskClassifier(), AizooMaskDetector()
    n = len(items)
    cols: dict[str, list] = {k: [] for k in (
        "path", "label", "face_found", "n_faces", "box", "size", "brightness", "sha256", "dhash",
        "f_crop", "f_crop_flip", "f_whole", "f_whole_flip", "mnv2_crop", "mnv2_whole",
        "aizoo_crop", "aizoo_own", "aizoo_own_found", "t_yunet", "t_mnv2", "t_aizoo")}
    start = time.perf_counter()
    for i, item in enumerate(items):
        img = read_image(item.path)
        t0 = time.perf_counter()
        faces = faces_det.detect(img)
        t1 = time.perf_counter()
        subj = main_subject(img, faces)
        feats, probs = mnv2.embed([subj.crop, subj.crop[:, ::-1], img, img[:, ::-1]])
        t2 = time.perf_counter()
        _, cls = aizoo.raw(subj.crop)
        t3 = time.perf_counter()
        own = aizoo.detect(img)
        if len(own.conf):
            best = int(np.argmax(own.conf))
            aizoo_own, own_found = float(own.p_mask[best]), True
        else:
            _, cls_whole = aizoo.raw(img)
            aizoo_own, own_found = float(cls_whole[int(np.argmax(cls_whole.max(axis=1))), 0]), False
        cols["path"].append(str(item.path.relative_to(dataset)))
        cols["label"].append(item.label)
        cols["face_found"].append(subj.face_found)
        cols["n_faces"].append(len(faces))
        cols["box"].append(subj.box)
        cols["size"].append(img.shape[1::-1])
        cols["brightness"].append(float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean()))
        cols["sha256"].append(sha256_file(item.path))
        cols["dhash"].append(dhash64(img))
        for k, f in zip(("f_crop", "f_crop_flip", "f_whole", "f_whole_flip"), feats, strict=True):
            cols[k].append(f.astype(np.float16))
        cols["mnv2_crop"].append(probs[0])
        cols["mnv2_whole"].append(probs[2])
        cols["aizoo_crop"].append(float(cls[int(np.argmax(cls.max(axis=1))), 0]))
        cols["aizoo_own"].append(aizoo_own)
        cols["aizoo_own_found"].append(own_found)
        cols["t_yunet"].append(t1 - t0)
        cols["t_mnv2"].append((t2 - t1) / 4)
        cols["t_aizoo"].append(t3 - t2)
        if (i + 1) % 100 == 0 or i + 1 == n:
            el = time.perf_counter() - start
            print(f"{i + 1}/{n} images, {el:.0f} s elapsed, ~{el / (i + 1) * (n - i - 1):.0f} s left", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v) for k, v in cols.items() if k != "dhash"}
    arrays["dhash"] = np.asarray(cols["dhash"], dtype=np.uint64)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({n} images)", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True, help="folder with with_mask/ and without_mask/")
    ap.add_argument("--out", type=Path, required=True, help=".npz file to write")
    ap.add_argument("--limit", type=int, default=None, help="first N images only (smoke runs)")
    a = ap.parse_args(argv)
    extract(a.dataset, a.out, a.limit)


if __name__ == "__main__":
    main()
