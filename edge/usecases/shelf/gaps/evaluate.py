"""``anshin eval shelf``: empty-shelf detection scored on labelled shelf photos, at IoU 0.5 and 0.3.

By default only photos the gap detector has never seen are scored: every file whose sha256 is in
the detector's fit manifest (``models/weights/anshin_shelf_gap_v1.fit.json``) is left out, which on
``media/empty_shelf`` leaves the held-out source photos (all their Roboflow variants) and on a folder
of other photos leaves everything. ``--split all`` scores every file and says how many were fitted on.

Approaches (``--approach``):

* ``learned``: the detector trained here (:class:`~edge.usecases.shelf.gaps.detectors.LearnedGapDetector`);
* ``product_rows``: gaps between SKU-110K product boxes along rows (geometry only);
* ``combined``: learned boxes, minus those mostly covered by detected products;
* ``fixed``: a floor: the 4 k-means centres of the training photos' gap boxes, predicted on every photo.

    anshin eval shelf --dataset ../shared/data/media/empty_shelf --json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Literal

import cv2
import numpy as np
import typer

from edge.eval.fit_manifest import FitManifest, check, file_digests, manifest_path, warn
from edge.paths import media_dir
from edge.usecases.shelf.gaps.dataset import LabelledPhoto, load
from edge.usecases.shelf.gaps.detectors import GAP_WEIGHTS, LearnedGapDetector, ProductDetector, ProductGapDetector
from edge.usecases.shelf.gaps.metrics import score

Approach = Literal["learned", "product_rows", "combined", "fixed"]
#: Confidence for precision/recall/F1 of the learned detector, chosen for the best F1 on the
#: training photos (never on the scored ones); see the card.
DEFAULT_CONF = 0.45


def product_cover(gaps: np.ndarray, products: np.ndarray) -> np.ndarray:
    """Share of each gap box's area covered by product boxes (overlaps counted once, on a grid).

    >>> product_cover(np.array([[0, 0, 10, 10]], float), np.array([[0, 0, 5, 10]], float)).round(2).tolist()
    [0.5]
    """
    out = np.zeros(len(gaps))
    for i, (x1, y1, x2, y2) in enumerate(gaps):
        xs, ys = np.linspace(x1, x2, 21)[:-1] + (x2 - x1) / 40, np.linspace(y1, y2, 21)[:-1] + (y2 - y1) / 40
        gx, gy = np.meshgrid(xs, ys)
        covered = np.zeros(gx.shape, bool)
        for px1, py1, px2, py2 in products:
            covered |= (gx >= px1) & (gx <= px2) & (gy >= py1) & (gy <= py2)
        out[i] = covered.mean()
    return out


def fixed_boxes(train: list[LabelledPhoto], k: int = 4, seed: int = 0) -> np.ndarray:
    """k-means centres (x1, y1, x2, y2) of the training photos' gap boxes: the "same bays" floor."""
    from sklearn.cluster import KMeans

    boxes = np.concatenate([p.boxes for p in train])
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit(boxes).cluster_centers_


def predict(approach: Approach, photos: list[LabelledPhoto], train: list[LabelledPhoto], conf: float,
            max_cover: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Boxes and scores per photo."""
    if approach == "fixed":
        centres = fixed_boxes(train)
        return [(centres, np.ones(len(centres))) for _ in photos]
    learned = LearnedGapDetector(conf=min(conf, 0.05)) if approach in ("learned", "combined") else None
    products = ProductDetector() if approach in ("product_rows", "combined") else None
    rows = ProductGapDetector(products) if approach == "product_rows" else None
    out = []
    for p in photos:
        image = cv2.imread(str(p.path))
        if image is None:
            raise ValueError(f"{p.path}: not a readable image")
        if rows is not None:
            out.append(rows.detect(image))
            continue
        boxes, scores = learned.detect(image)  # type: ignore[union-attr]
        if products is not None and len(boxes):
            keep = product_cover(boxes, products.detect(image)[0]) <= max_cover
            boxes, scores = boxes[keep], scores[keep]
        out.append((boxes, scores))
    return out


def evaluate(dataset: Path, approach: Approach = "learned", split: Literal["unseen", "all"] = "unseen",
             conf: float = DEFAULT_CONF, max_cover: float = 0.5, weights: Path = GAP_WEIGHTS) -> dict[str, object]:
    """The figures ``anshin eval shelf`` prints."""
    photos = load(dataset)
    digests = file_digests(p.path for p in photos)
    manifests = [FitManifest.load(manifest_path(weights))] if manifest_path(weights).is_file() else []
    fitted = set().union(*(m.sha256 for m in manifests)) if manifests else set()
    train = [p for p, d in zip(photos, digests, strict=True) if d in fitted]
    scored = [(p, d) for p, d in zip(photos, digests, strict=True) if split == "all" or d not in fitted]
    if not scored:
        raise ValueError(f"{dataset}: every photo was fitted on; nothing unseen to score (use --split all to see memorisation)")
    if approach == "fixed" and not train:
        raise ValueError("the fixed-box floor needs the detector's training photos in the dataset")
    started = time.perf_counter()
    predictions = predict(approach, [p for p, _ in scored], train, conf, max_cover)
    elapsed = time.perf_counter() - started
    truth = [p.boxes for p, _ in scored]
    at5, at3 = score(truth, predictions, 0.5, conf), score(truth, predictions, 0.3, conf)
    report = check([d for _, d in scored], manifests)
    return {
        "approach": approach, "dataset": str(dataset), "split": split,
        "images": len(scored), "photos": len({p.photo for p, _ in scored}), "objects": int(sum(len(t) for t in truth)),
        "precision": at5.precision, "recall": at5.recall, "f1": at5.f1, "map50": round(at5.ap, 4),
        "iou_0.3": {"precision": at3.precision, "recall": at3.recall, "f1": at3.f1, "map30": round(at3.ap, 4)},
        "conf": conf, "counts_0.5": {"tp": at5.tp, "fp": at5.fp, "fn": at5.fn},
        "ms_per_image": round(1000 * elapsed / len(scored), 1),
        "left_out_fitted": len(photos) - len(scored) if split == "unseen" else 0,
        **report,
    }


def shelf_command(
    dataset: Annotated[Path, typer.Option(help="YOLO folder: images/, labels/ (sources.csv optional)")] = media_dir() / "empty_shelf",
    approach: Annotated[str, typer.Option(help="learned | product_rows | combined | fixed")] = "learned",
    split: Annotated[str, typer.Option(help="unseen: leave out files the detector was trained on; all: score everything")] = "unseen",
    conf: Annotated[float, typer.Option(help="score threshold for precision/recall/F1")] = DEFAULT_CONF,
    max_cover: Annotated[float, typer.Option(help="combined: drop gap boxes more covered by products than this")] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Empty-shelf detection: precision, recall, F1 and AP at IoU 0.5 and 0.3 on labelled photos."""
    if approach not in ("learned", "product_rows", "combined", "fixed"):
        raise typer.BadParameter(f"unknown approach {approach!r}; one of learned, product_rows, combined, fixed")
    if split not in ("unseen", "all"):
        raise typer.BadParameter(f"unknown split {split!r}; unseen or all")
    try:
        result = evaluate(dataset, approach, split, conf, max_cover)  # type: ignore[arg-type]
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    warn(result)
    if as_json:
        typer.echo(json.dumps(result, indent=1))
    else:
        typer.echo(f"{approach}: {result['images']} images  P {result['precision']}  R {result['recall']}  "
                   f"F1 {result['f1']}  mAP50 {result['map50']}  (IoU 0.3: F1 {result['iou_0.3']['f1']})")
