"""Train the mask head on extracted features with grouped, deduplicated cross-validation.

    python -m edge.usecases.entrance.masks.training.features --dataset ../shared/data/media/facemask_dev --out var/mask/facemask_dev.npz --workers 2
    python -m edge.usecases.entrance.masks.training.train --features var/mask/facemask_dev.npz --out models/weights/anshin_mask_head_v1.npz \
        --preprocess luma_levels_gamma_v1 --report var/mask/cv_report.json

Cross-validation: duplicate groups (same bytes or dHash ≤ 4 bits) are assigned whole to one of
5 folds (seeded), so no copy of a validation picture is trained on. The regularisation strength
is chosen inside each outer training part (nested, 4 inner folds), so the outer figures are not
tuned on the images they score. The final head is fitted on all images with the C chosen by a
grouped 5-fold search over the whole set. Everything is seeded: the same features give the same head.

``--preprocess luma_levels_gamma_v1`` trains on brightness-normalised crops (the head's meta records it,
and the live classifier applies the same function); ``--augment-dark`` adds one darkened copy of
every training image as extra rows (a copy is only ever in its own image's training part).
Synthetic dark stress test: each held-out fold's images darkened (gamma 2.5; gain 0.4), run through
YuNet again, and scored by that fold's head; recall per class is reported next to the normal figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.eval.fit_manifest import FitManifest, manifest_path
from edge.usecases.entrance.masks.lighting import PREPROCESS_NAME
from edge.usecases.entrance.masks.logistic_head import fit_head
from edge.usecases.entrance.masks.metrics import binary_figures, light_bucket, size_bucket, slice_recalls
from edge.usecases.entrance.masks.training.dataset import duplicate_groups

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
SEED = 20260101
VIEWS_TRAIN = ("f_crop", "f_crop_flip", "f_whole", "f_whole_flip")


def group_folds(groups: npt.NDArray[np.int64], k: int, seed: int) -> npt.NDArray[np.int64]:
    """(n,) fold index per image; every duplicate group lands in exactly one fold."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(groups.max() + 1)
    fold_of_group = np.empty_like(order)
    fold_of_group[order] = np.arange(len(order)) % k
    return fold_of_group[groups]


STRESS_VIEWS = ("f_stress_gamma", "f_stress_scale")


def view_names(views: tuple[str, ...], preprocess: str, augment_dark: bool) -> tuple[str, ...]:
    """Feature columns for the training rows: ``_n`` columns when trained on normalised crops.

    >>> view_names(("f_crop", "f_whole"), "luma_levels_gamma_v1", True)
    ('f_crop_n', 'f_whole_n', 'f_dark_aug_n')
    >>> view_names(("f_crop",), "none", False)
    ('f_crop',)
    """
    suffix = "_n" if preprocess == PREPROCESS_NAME else ""
    return tuple(v + suffix for v in views + (("f_dark_aug",) if augment_dark else ()))


def training_rows(z: dict[str, np.ndarray], idx: np.ndarray, views: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Stack the chosen feature views of images ``idx``; every view keeps its image's label."""
    x = np.concatenate([z[v][idx].astype(np.float32) for v in views])
    y = np.concatenate([z["label"][idx]] * len(views))
    return x, y


def score(head, z: dict[str, np.ndarray], idx: np.ndarray, flip: bool, suffix: str = "", view: str = "f_crop") -> np.ndarray:  # type: ignore[no-untyped-def]
    """P(mask) of the pipeline's actual input (``f_crop`` = face crop, or whole image if no face)."""
    p = head.predict(z[view + suffix][idx].astype(np.float32))
    if flip:
        p = (p + head.predict(z["f_crop_flip" + suffix][idx].astype(np.float32))) / 2
    return p


def choose_c(z: dict[str, np.ndarray], idx: np.ndarray, groups: np.ndarray, views: tuple[str, ...], k: int, seed: int,
             suffix: str = "") -> tuple[float, dict[float, float]]:
    folds = group_folds(groups[idx], k, seed)
    results: dict[float, float] = {}
    for c in C_GRID:
        pred = np.empty(len(idx))
        for f in range(k):
            tr, va = idx[folds != f], idx[folds == f]
            head = fit_head(*training_rows(z, tr, views), c=c)
            pred[folds == f] = score(head, z, va, flip=False, suffix=suffix)
        results[c] = binary_figures(z["label"][idx], pred >= 0.5)["balanced_accuracy"]
    best = max(C_GRID, key=lambda c: (results[c], -c))  # ties → stronger regularisation
    return best, results


def cross_validate(z: dict[str, np.ndarray], groups: np.ndarray, views: tuple[str, ...], flip: bool, k: int = 5,
                   suffix: str = "") -> dict[str, object]:
    """Nested grouped k-fold figures, plus the synthetic dark stress test of every held-out fold."""
    n = len(groups)
    folds = group_folds(groups, k, SEED)
    pred = np.empty(n)
    stress = {v: np.empty(n) for v in STRESS_VIEWS if v in z}
    chosen = []
    for f in range(k):
        tr, va = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        c, _ = choose_c(z, tr, groups, views, k=4, seed=SEED + f + 1, suffix=suffix)
        chosen.append(c)
        head = fit_head(*training_rows(z, tr, views), c=c)
        pred[va] = score(head, z, va, flip, suffix)
        for v, p in stress.items():
            p[va] = score(head, z, va, False, suffix, view=v)
        print(f"  fold {f + 1}/{k}: C={c}, {binary_figures(z['label'][va], pred[va] >= 0.5)}", file=sys.stderr, flush=True)
    figs = binary_figures(z["label"], pred >= 0.5)
    stress_figs = {v.removeprefix("f_stress_"): {**binary_figures(z["label"], p >= 0.5),
                                                  "no_face_found": int((~z[v + "_face"].astype(bool)).sum())}
                   for v, p in stress.items()}
    return {**figs, "folds": k, "chosen_c": chosen, "views": list(views), "flip_average": flip,
            "no_face_found": int((~z["face_found"].astype(bool)).sum()), "n": n,
            "synthetic_dark_stress": stress_figs, "p_mask": pred, "p_stress": stress}


def cv_slices(z: dict[str, np.ndarray], p_mask: np.ndarray) -> list[dict[str, object]]:
    """Recall per slice (class, size, lighting, face found) of the cross-validated predictions."""
    y = z["label"]
    return slice_recalls(y, p_mask >= 0.5, {
        "class": ["all"] * len(y),
        "size": [size_bucket(int(w), int(h)) for w, h in z["size"]],
        "lighting": [light_bucket(float(b)) for b in z["brightness"]],
        "face_found": ["face" if f else "no_face" for f in z["face_found"]],
    })


def write_fit_manifest(out: Path, z: dict[str, np.ndarray], features: Path, argv: list[str]) -> Path:
    """``<out stem>.fit.json`` beside the head: the sha256 of every image it was trained on.

    ``anshin eval mask`` compares what it evaluates with this list, so figures on training
    images are flagged as memorisation.
    """
    path = manifest_path(out)
    FitManifest.of(
        artifact=str(out), role="trained",
        data=f"{len(z['sha256'])} images of the folder {features.name} was extracted from (every image, all folds)",
        command=" ".join(["python -m edge.usecases.entrance.masks.training.train", *argv]),
        digests=[str(s) for s in z["sha256"]],
    ).save(path)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train the mask head with grouped cross-validation.")
    ap.add_argument("--features", type=Path, required=True, help=".npz from edge.usecases.entrance.masks.training.features")
    ap.add_argument("--out", type=Path, required=True, help="head weights .npz to write")
    ap.add_argument("--report", type=Path, default=None, help="JSON with the cross-validated figures")
    ap.add_argument("--views", default=",".join(VIEWS_TRAIN), help="feature views used as training rows")
    ap.add_argument("--flip-average", action="store_true", help="average the crop and its mirror at inference")
    ap.add_argument("--preprocess", choices=("none", PREPROCESS_NAME), default="none",
                    help="crop preprocessing before the backbone (recorded in the head; applied live)")
    ap.add_argument("--augment-dark", action="store_true", help="add one darkened copy of every training image")
    a = ap.parse_args(argv)
    z = dict(np.load(a.features))
    suffix = "_n" if a.preprocess == PREPROCESS_NAME else ""
    views = view_names(tuple(a.views.split(",")), a.preprocess, a.augment_dark)
    groups = duplicate_groups([int(v) for v in z["dhash"]], [str(s) for s in z["sha256"]])
    print(f"{len(groups)} images in {groups.max() + 1} duplicate groups; nested grouped 5-fold CV", file=sys.stderr)
    cv = cross_validate(z, groups, views, a.flip_average, suffix=suffix)
    p_mask, p_stress = cv.pop("p_mask"), cv.pop("p_stress")
    print(json.dumps(cv), file=sys.stderr)
    all_idx = np.arange(len(groups))
    c, grid = choose_c(z, all_idx, groups, views, k=5, seed=SEED, suffix=suffix)
    meta = {"version": "v1", "backbone": "derived_face_mask_mobilenetv2_dynint8.tflite",
            "backbone_sha256_12": "ead866714c44", "features": "model/flatten/Reshape (1280)",
            "training_data": "facemask_dev", "n_images": int(len(groups)), "views": list(views),
            "flip_average": a.flip_average, "preprocess": a.preprocess, "augment_dark": a.augment_dark, "seed": SEED, "c_grid_balanced_accuracy": {str(k): v for k, v in grid.items()},
            "cv": {k: v for k, v in cv.items()}}
    head = fit_head(*training_rows(z, all_idx, views), c=c, meta=meta)
    head.save(a.out)
    manifest = write_fit_manifest(a.out, z, a.features, sys.argv[1:] if argv is None else argv)
    print(f"wrote {a.out} (C={c}) and its fit manifest {manifest}", file=sys.stderr)
    if a.report:
        a.report.parent.mkdir(parents=True, exist_ok=True)
        stress_slices = {v.removeprefix("f_stress_"): [r for r in cv_slices(z, p) if r["slice"] != "lighting"]
                         for v, p in p_stress.items()}  # lighting buckets are of the undarkened image
        a.report.write_text(json.dumps({**cv, "c_final": c, "slices": cv_slices(z, p_mask),
                                        "synthetic_dark_stress_slices": stress_slices}, indent=2) + "\n")
        np.save(a.report.with_suffix(".cv_p_mask.npy"), p_mask)


if __name__ == "__main__":
    main()
