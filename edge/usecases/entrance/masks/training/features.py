"""Extract, once, everything training and the option comparison need from a mask dataset folder.

For each image: YuNet faces → the main subject (largest face with margin, else whole image),
MobileNetV2 pooled features of the subject, its mirror image, the whole image and its mirror,
the original MobileNetV2 and AIZOO probabilities, and the hashes for duplicate grouping.
The same four views after :func:`~edge.usecases.entrance.masks.lighting.normalise_brightness`
(suffix ``_n``); the subject of one randomly darkened copy of the image (``f_dark_aug``, seeded
per image, for augmentation: copies share their image's duplicate group, hence its fold); and
the subject of two fixed darkenings (``f_stress_gamma``: gamma 2.5, ``f_stress_scale``: gain 0.4)
for the synthetic dark stress test. Darkened images go through YuNet again, like a dark picture live.
The result is one ``.npz`` (not committed; regenerate with the command below).

    python -m edge.usecases.entrance.masks.training.features --dataset ../shared/data/media/facemask_dev --out var/mask/facemask_dev.npz --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from edge.faces import YuNetFaceDetector
from edge.usecases.entrance.masks.aizoo import AizooMaskDetector
from edge.usecases.entrance.masks.lighting import darken, luma_mean, normalise_brightness
from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier
from edge.usecases.entrance.masks.pipeline import main_subject
from edge.usecases.entrance.masks.training.dataset import dhash64, list_items, read_image, sha256_file

# Augmentation darkening drawn per image (seeded); deliberately milder than and different from the
# stress test's fixed settings, so the stress test does not score the exact transform trained on.
AUG_GAMMA = (1.5, 2.2)
AUG_SCALE = (0.5, 0.8)
STRESS = {"f_stress_gamma": {"gamma": 2.5}, "f_stress_scale": {"scale": 0.4}}
SEED = 20260101
_WORKER: dict[str, object] = {}


def _models() -> dict[str, object]:
    if not _WORKER:
        cv2.setNumThreads(1)  # the development machines share two cores
        _WORKER.update(faces=YuNetFaceDetector(), mnv2=MobileNetV2MaskClassifier(), aizoo=AizooMaskDetector())
    return _WORKER


def _row(i: int, path: Path, label: int, dataset: Path) -> dict[str, object]:
    """Everything :func:`extract` stores for the ``i``-th image."""
    m = _models()
    faces_det, mnv2, aizoo = m["faces"], m["mnv2"], m["aizoo"]
    img = read_image(path)
    t0 = time.perf_counter()
    faces = faces_det.detect(img)  # type: ignore[attr-defined]
    t1 = time.perf_counter()
    subj = main_subject(img, faces)
    feats, probs = mnv2.embed([subj.crop, subj.crop[:, ::-1], img, img[:, ::-1]])  # type: ignore[attr-defined]
    t2 = time.perf_counter()
    _, cls = aizoo.raw(subj.crop)  # type: ignore[attr-defined]
    t3 = time.perf_counter()
    own = aizoo.detect(img)  # type: ignore[attr-defined]
    if len(own.conf):
        best = int(np.argmax(own.conf))
        aizoo_own, own_found = float(own.p_mask[best]), True
    else:
        _, cls_whole = aizoo.raw(img)  # type: ignore[attr-defined]
        aizoo_own, own_found = float(cls_whole[int(np.argmax(cls_whole.max(axis=1))), 0]), False
    norm, _ = mnv2.embed([normalise_brightness(v) for v in (subj.crop, subj.crop[:, ::-1], img, img[:, ::-1])])  # type: ignore[attr-defined]
    rng = np.random.default_rng(SEED + i)
    darkened = {"f_dark_aug": darken(img, gamma=float(rng.uniform(*AUG_GAMMA)), scale=float(rng.uniform(*AUG_SCALE)))}
    darkened.update({k: darken(img, **kw) for k, kw in STRESS.items()})
    row: dict[str, object] = {}
    for name, dimg in darkened.items():
        dsub = main_subject(dimg, faces_det.detect(dimg))  # type: ignore[attr-defined]
        (raw, normed), _ = mnv2.embed([dsub.crop, normalise_brightness(dsub.crop)])  # type: ignore[attr-defined]
        row[name], row[name + "_n"], row[name + "_face"] = raw.astype(np.float16), normed.astype(np.float16), dsub.face_found
    row.update({
        "path": str(path.relative_to(dataset)), "label": label, "face_found": subj.face_found, "n_faces": len(faces),
        "box": subj.box, "size": img.shape[1::-1], "brightness": float(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean()),
        "crop_luma": luma_mean(subj.crop), "sha256": sha256_file(path), "dhash": dhash64(img),
        "mnv2_crop": probs[0], "mnv2_whole": probs[2], "aizoo_crop": float(cls[int(np.argmax(cls.max(axis=1))), 0]),
        "aizoo_own": aizoo_own, "aizoo_own_found": own_found,
        "t_yunet": t1 - t0, "t_mnv2": (t2 - t1) / 4, "t_aizoo": t3 - t2})
    for k, f, fn in zip(("f_crop", "f_crop_flip", "f_whole", "f_whole_flip"), feats, norm, strict=True):
        row[k], row[k + "_n"] = f.astype(np.float16), fn.astype(np.float16)
    return row


def _rows(args: tuple[int, str, int, str]) -> dict[str, object]:
    i, path, label, dataset = args
    return _row(i, Path(path), label, Path(dataset))


def extract(dataset: Path, out: Path, limit: int | None = None, workers: int = 1) -> None:
    items = list_items(dataset)[:limit] if limit else list_items(dataset)
    n = len(items)
    jobs = [(i, str(it.path), it.label, str(dataset)) for i, it in enumerate(items)]
    rows: list[dict[str, object]] = []
    start = time.perf_counter()
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    mapped = pool.map(_rows, jobs, chunksize=8) if pool else map(_rows, jobs)
    try:
        for row in mapped:  # results come back in input order, so the file does not depend on `workers`
            rows.append(row)
            done = len(rows)
            if done % 100 == 0 or done == n:
                el = time.perf_counter() - start
                print(f"{done}/{n} images, {el:.0f} s elapsed, ~{el / done * (n - done):.0f} s left", file=sys.stderr, flush=True)
    finally:
        if pool:
            pool.shutdown()
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray([r[k] for r in rows]) for k in rows[0] if k != "dhash"}
    arrays["dhash"] = np.asarray([r["dhash"] for r in rows], dtype=np.uint64)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({n} images)", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=Path, required=True, help="folder with with_mask/ and without_mask/")
    ap.add_argument("--out", type=Path, required=True, help=".npz file to write")
    ap.add_argument("--limit", type=int, default=None, help="first N images only (smoke runs)")
    ap.add_argument("--workers", type=int, default=1, help="processes (the output does not depend on it)")
    a = ap.parse_args(argv)
    extract(a.dataset, a.out, a.limit, a.workers)


if __name__ == "__main__":
    main()
