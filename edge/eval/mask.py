"""``anshin eval mask``: mask classification on a folder of ``with_mask/`` and ``without_mask/`` images.

Each image goes through the same path the entrance analyzer uses: YuNet finds the largest face,
its grown box is classified; where no face is found the whole image is classified and counted in
``no_face_found``. Figures: balanced accuracy, per-class recall, and recall per slice (class,
image size bucket, lighting bucket by mean brightness) so a weak subgroup is visible.

Example::

    anshin eval mask --dataset ../shared/data/media/facemask_dev --json
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import typer

from edge.eval import fit_manifest
from edge.usecases.entrance.masks.metrics import binary_figures, light_bucket, size_bucket, slice_recalls
from edge.usecases.entrance.masks.training.dataset import list_items, read_image

CLASSIFIERS = ("linear", "mobilenetv2", "aizoo", "aizoo-ssd")


class ImageScorer(Protocol):
    model_name: str
    model_version: str

    def __call__(self, image: np.ndarray) -> tuple[float, bool]:
        """P(mask) of the image's subject and whether a face was found."""
        ...


@dataclass
class YuNetThenClassifier:
    """YuNet's largest face (grown box) → classifier; the whole image when no face is found."""

    classifier: object

    def __post_init__(self) -> None:
        from edge.faces import YuNetFaceDetector

        self.faces = YuNetFaceDetector()
        self.model_name = f"yunet+{self.classifier.model_name}"  # type: ignore[attr-defined]
        self.model_version = f"{self.faces.model_version}+{self.classifier.model_version}"  # type: ignore[attr-defined]

    def __call__(self, image: np.ndarray) -> tuple[float, bool]:
        from edge.usecases.entrance.masks.pipeline import main_subject

        subject = main_subject(image, self.faces.detect(image))
        return float(self.classifier.predict([subject.crop])[0]), subject.face_found  # type: ignore[attr-defined]


@dataclass
class AizooSsd:
    """The AIZOO network as its own face detector: its most confident face decides."""

    def __post_init__(self) -> None:
        from edge.usecases.entrance.masks.aizoo import AizooMaskClassifier, AizooMaskDetector

        self.det = AizooMaskDetector()
        self.fallback = AizooMaskClassifier()
        self.model_name = self.det.model_name
        self.model_version = self.det.model_version

    def __call__(self, image: np.ndarray) -> tuple[float, bool]:
        found = self.det.detect(image)
        if len(found.conf):
            return float(found.p_mask[int(np.argmax(found.conf))]), True
        return float(self.fallback.predict([image])[0]), False


def make_scorer(name: str) -> ImageScorer:
    """The scorer for ``--classifier``; raises ValueError listing the known names."""
    if name == "linear":
        from edge.usecases.entrance.masks.linear import LinearMaskClassifier

        return YuNetThenClassifier(LinearMaskClassifier())
    if name == "mobilenetv2":
        from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier

        return YuNetThenClassifier(MobileNetV2MaskClassifier())
    if name == "aizoo":
        from edge.usecases.entrance.masks.aizoo import AizooMaskClassifier

        return YuNetThenClassifier(AizooMaskClassifier())
    if name == "aizoo-ssd":
        return AizooSsd()
    raise ValueError(f"unknown classifier {name!r}; known: {', '.join(CLASSIFIERS)}")


def fit_manifests(name: str) -> list[Path]:
    """Manifests of what ``--classifier name`` was trained on: the head and its backbone (their files may be absent)."""
    from edge.usecases.entrance.masks.linear import DEFAULT_HEAD

    backbone = fit_manifest.card_manifest("face_mask_detector_mobilenetv2")
    own = {"linear": [fit_manifest.manifest_path(DEFAULT_HEAD), backbone], "mobilenetv2": [backbone]}
    return own.get(name, [fit_manifest.card_manifest("aizoo_face_mask_detection")])


@dataclass(frozen=True, slots=True)
class ImageResult:
    file: str
    label: int
    p_mask: float
    face_found: bool
    size: tuple[int, int]
    brightness: float
    ms: float


def evaluate(
    dataset: Path,
    scorer: ImageScorer,
    threshold: float = 0.5,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, object], list[ImageResult]]:
    """Score every image (or ``limit`` spread evenly over each class) and summarise."""
    items = list_items(dataset)
    if limit is not None and limit < len(items):
        # even spread over the sorted list keeps both classes in proportion
        idx = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
        items = [items[i] for i in idx]
    results: list[ImageResult] = []
    for i, item in enumerate(items):
        image = read_image(item.path)
        t0 = time.perf_counter()
        p, found = scorer(image)
        ms = (time.perf_counter() - t0) * 1000
        grey = float(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).mean())
        results.append(ImageResult(str(item.path.relative_to(dataset)), item.label, p, found,
                                   (image.shape[1], image.shape[0]), grey, ms))
        if progress:
            progress(i + 1, len(items))
    return summarize(results, threshold, scorer), results


def summarize(results: list[ImageResult], threshold: float, scorer: ImageScorer) -> dict[str, object]:
    y = np.array([r.label for r in results])
    pred = np.array([r.p_mask >= threshold for r in results], int)
    figs = binary_figures(y, pred)
    slices = {
        "class": ["all"] * len(results),
        "size": [size_bucket(*r.size) for r in results],
        "lighting": [light_bucket(r.brightness) for r in results],
        "face_found": ["face" if r.face_found else "no_face" for r in results],
    }
    return {
        "n": len(results),
        **figs,
        "recall_gap": round(abs(figs["recall_with_mask"] - figs["recall_without_mask"]), 4),
        "no_face_found": sum(not r.face_found for r in results),
        "n_with_mask": int(y.sum()),
        "n_without_mask": int(len(y) - y.sum()),
        "ms_per_image_median": round(float(np.median([r.ms for r in results])), 1) if results else None,
        "threshold": threshold,
        "model": scorer.model_name,
        "model_version": scorer.model_version,
        "slices": slice_recalls(y, pred, slices),
    }


def mask_command(
    dataset: Path = typer.Option(..., "--dataset", exists=True, file_okay=False, help="folder with with_mask/ and without_mask/"),
    classifier: str = typer.Option("linear", "--classifier", help=f"one of: {', '.join(CLASSIFIERS)}"),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0, help="P(mask) at or above which a face counts as masked"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="evaluate N images spread evenly over the sorted list"),
    per_image: Path | None = typer.Option(None, "--per-image", help="also write file,label,p_mask,face_found,ms rows to this CSV"),
    as_json: bool = typer.Option(False, "--json", help="print only the JSON result on stdout"),
) -> None:
    """Mask wearing: balanced accuracy, per-class recall, no_face_found, recall per slice.

    Example: anshin eval mask --dataset ../shared/data/media/facemask_dev --json
    Progress goes to stderr; the result to stdout. ``fitted_on_this_data`` says whether any image
    was in the data the classifier was trained on (by sha256; a warning goes to stderr).
    """
    try:
        scorer = make_scorer(classifier)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            rate = done / (time.perf_counter() - started)
            print(f"\r{done}/{total} images ({rate:.1f}/s)", end="\n" if done == total else "", file=sys.stderr, flush=True)

    try:
        summary, results = evaluate(dataset, scorer, threshold, limit, progress)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary["dataset"] = str(dataset)
    summary["limit"] = limit
    # Figures on images the head or its backbone was trained on measure memorisation: say so.
    fitted = fit_manifest.check_files([dataset / r.file for r in results], fit_manifest.existing(fit_manifests(classifier)))
    fit_manifest.warn(fitted)
    summary.update(fitted)
    if per_image is not None:
        import csv

        with per_image.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "label", "p_mask", "face_found", "ms"])
            w.writerows([r.file, r.label, round(r.p_mask, 4), int(r.face_found), round(r.ms, 1)] for r in results)
    typer.echo(json.dumps(summary) if as_json else json.dumps(summary, indent=2))
