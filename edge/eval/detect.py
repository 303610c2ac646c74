"""``anshin eval detect`` / ``anshin eval faces``: detection sanity on real, annotated photos.

Ten small photos with known people: ``bus.jpg`` and ``zidane.jpg`` (counts from the data manifest,
boxes hand-annotated in ``models/eval/reference_photos.json``) and the eight ``coco8-pose`` images
(COCO person boxes and keypoints in YOLO-pose label files). Per image: people expected vs found,
and how many were matched one-to-one (IoU ≥ 0.5 for boxes; for faces, the annotated nose tip
inside the face box), hence precision and recall. Cheap enough to run after any change to a
detector setting, which is what it is for: a quick "does it still find the people" check, not a
benchmark (ten images say little about a camera; use ``anshin eval count`` on the target camera).

Faces use the same photos where faces are annotated: the hand-annotated nose tips of
``reference_photos.json`` (bus, zidane, the three mask scenes) and, for coco8-pose, every person
whose nose and both eyes are labelled. Faces cut by the frame, hidden behind another head or in
profile are ``ignore`` points: a detection there counts neither way.

Example::

    anshin eval detect --json
    anshin eval faces --json
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import typer

from edge.eval import fit_manifest
from edge.eval.options import build_detector, detector_config, detector_settings
from edge.models_registry import sha256_file
from edge.paths import PROJECT_ROOT, media_dir
from services.shared.boxes import box_iou

REFERENCE_PHOTOS = PROJECT_ROOT / "models" / "eval" / "reference_photos.json"
COCO8_POSE = "coco8-pose"
# COCO keypoint order: 0 nose, 1 left eye, 2 right eye, ...
_NOSE, _LEFT_EYE, _RIGHT_EYE = 0, 1, 2

Boxes = npt.NDArray[np.float32]  # (n, 4) x1, y1, x2, y2 in pixels
Points = npt.NDArray[np.float32]  # (n, 2) x, y in pixels


@dataclass(frozen=True, slots=True)
class PhotoTruth:
    """What is known about one photo; ``None`` = not annotated for that task.

    Attributes:
        file: path relative to the media directory.
        persons: (n, 4) person boxes in pixels.
        faces: (k, 2) face points (nose tips) in pixels.
        face_ignore: (j, 2) faces that are not scored (cut off, occluded, profile).
        source: where the truth comes from, for the report.
    """

    file: str
    persons: Boxes | None = None
    faces: Points | None = None
    face_ignore: Points = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    source: str = ""


def _array(value: Any, width: int, where: str) -> npt.NDArray[np.float32]:
    arr = np.asarray(value, dtype=np.float32)
    if arr.size == 0:
        return np.zeros((0, width), np.float32)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{where}: expected a list of {width}-number rows, got shape {arr.shape}")
    return arr


def load_reference_photos(path: Path = REFERENCE_PHOTOS, media: Path | None = None) -> list[PhotoTruth]:
    """The hand-annotated photos; checks each image's sha256 so annotations never meet other bytes.

    Raises:
        FileNotFoundError: the truth file or an image is missing (names it).
        ValueError: a malformed entry, a box count that disagrees with ``count``, or different image bytes.
    """
    media = media or media_dir()
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"reference photo truth {path} not found") from exc
    photos: list[PhotoTruth] = []
    for name, entry in raw["images"].items():
        where = f"{path}: images.{name}"
        image = media / name
        if not image.is_file():
            raise FileNotFoundError(f"{where}: image {image} not found; set ANSHIN_MEDIA_DIR (see ../shared/data/MANIFEST.md)")
        if sha256_file(image) != entry["sha256"]:
            raise ValueError(f"{where}: {image} is not the annotated image (sha256 differs from {entry['sha256']})")
        persons = faces = None
        ignore = np.zeros((0, 2), np.float32)
        if "persons" in entry:
            persons = _array(entry["persons"]["boxes"], 4, f"{where}.persons.boxes")
            if len(persons) != entry["persons"]["count"]:
                raise ValueError(f"{where}.persons: {len(persons)} boxes but count {entry['persons']['count']}")
        if "faces" in entry:
            faces = _array(entry["faces"]["points"], 2, f"{where}.faces.points")
            ignore = _array(entry["faces"].get("ignore", []), 2, f"{where}.faces.ignore")
        photos.append(PhotoTruth(name, persons, faces, ignore, f"data manifest counts; hand-annotated boxes and face points ({Path(path).name})"))
    return photos


def load_pose_labels(label: Path, width: int, height: int) -> tuple[Boxes, npt.NDArray[np.float32]]:
    """Person boxes (n, 4) and keypoints (n, 17, 3: x, y, visibility) in pixels from one YOLO-pose label file.

    Each line is ``class cx cy w h`` + 17 × ``(x, y, v)``, normalised to 0..1 (v: 0 unlabelled,
    1 labelled but hidden, 2 visible).
    """
    rows = np.loadtxt(label, dtype=np.float32, ndmin=2)
    if rows.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros((0, 17, 3), np.float32)
    if rows.shape[1] != 5 + 17 * 3:
        raise ValueError(f"{label}: expected 56 numbers per line (class, box, 17 keypoints), got {rows.shape[1]}")
    rows = rows[rows[:, 0] == 0]  # class 0 = person
    scale = np.array([width, height, width, height], np.float32)
    cx, cy, w, h = (rows[:, 1:5] * scale).T
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kpts = rows[:, 5:].reshape(-1, 17, 3) * np.array([width, height, 1], np.float32)
    return boxes.astype(np.float32), kpts.astype(np.float32)


def face_points(kpts: npt.NDArray[np.float32]) -> tuple[Points, Points]:
    """Scored and ignored face points from COCO keypoints (n, 17, 3).

    A face is scored (its nose tip) when the nose and both eyes are labelled; when only some of
    them are (profile, turned away, partly hidden) it is ignored, at the mean of those labelled.

    >>> k = np.zeros((3, 17, 3), np.float32)
    >>> k[0, :3] = [[10, 20, 2], [12, 18, 2], [8, 18, 2]]   # frontal
    >>> k[1, 2] = [50, 40, 2]                                # one eye only
    >>> [p.tolist() for p in face_points(k)]
    [[[10.0, 20.0]], [[50.0, 40.0]]]
    """
    face = kpts[:, [_NOSE, _LEFT_EYE, _RIGHT_EYE]]
    labelled = face[:, :, 2] > 0
    frontal = labelled.all(axis=1)
    partial = labelled.any(axis=1) & ~frontal
    weights = labelled[partial, :, None].astype(np.float32)
    ignore = (face[partial, :, :2] * weights).sum(axis=1) / weights.sum(axis=1)
    return face[frontal, 0, :2].astype(np.float32), ignore.astype(np.float32)


def coco8_pose_photos(media: Path | None = None) -> list[PhotoTruth]:
    """The coco8-pose images (train and val): person boxes, and face points where nose and both eyes are labelled."""
    root = (media or media_dir()) / COCO8_POSE
    images = sorted((root / "images").glob("*/*.jpg"))
    if not images:
        raise FileNotFoundError(f"no images under {root / 'images'}; set ANSHIN_MEDIA_DIR (see ../shared/data/MANIFEST.md)")
    photos = []
    for image in images:
        label = root / "labels" / image.parent.name / f"{image.stem}.txt"
        if not label.is_file():
            raise FileNotFoundError(f"label file {label} for {image} not found")
        height, width = _read(image.parent, image.name).shape[:2]  # labels are normalised to this size
        boxes, kpts = load_pose_labels(label, width, height)
        photos.append(PhotoTruth(str(image.relative_to(root.parent)), boxes, *face_points(kpts),
                                 "coco8-pose labels (COCO boxes; faces: nose and both eyes labelled)"))
    return photos


def match_boxes(truth: Boxes, found: Boxes, score: npt.NDArray[np.float32], min_iou: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one matches (truth index, detection index), best-scoring detection first.

    The PASCAL VOC / COCO rule: each detection, in descending score, takes the still unmatched
    truth box it overlaps most, if that IoU is at least ``min_iou``; a second detection on the
    same person is a false alarm.

    >>> t = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    >>> d = np.array([[0, 0, 10, 9], [1, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    >>> match_boxes(t, d, np.array([0.9, 0.8, 0.7], np.float32))
    [(0, 0)]
    """
    if len(truth) == 0 or len(found) == 0:
        return []
    iou = box_iou(truth, found)
    taken = np.zeros(len(truth), bool)
    pairs = []
    for d in np.argsort(-score, kind="stable"):
        candidates = np.where(taken, -1.0, iou[:, d])
        t = int(candidates.argmax())
        if candidates[t] >= min_iou:
            taken[t] = True
            pairs.append((t, int(d)))
    return pairs


def _inside(points: Points, box: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    return (points[:, 0] >= box[0]) & (points[:, 0] <= box[2]) & (points[:, 1] >= box[1]) & (points[:, 1] <= box[3])


def match_points(truth: Points, found: Boxes, score: npt.NDArray[np.float32], ignore: Points | None = None) -> tuple[list[tuple[int, int]], int]:
    """One-to-one matches of face points to face boxes that contain them, best score first.

    A box takes the unmatched point nearest its centre. Returns the pairs and the number of
    unmatched boxes that contain an ``ignore`` point (neither hits nor false alarms).

    >>> pts = np.array([[5, 5]], np.float32)
    >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 9, 9], [20, 20, 30, 30]], np.float32)
    >>> match_points(pts, boxes, np.array([0.5, 0.9, 0.8], np.float32), np.array([[25, 25]], np.float32))
    ([(0, 1)], 1)
    """
    ignore = np.zeros((0, 2), np.float32) if ignore is None else ignore
    taken = np.zeros(len(truth), bool)
    pairs, ignored = [], 0
    for d in np.argsort(-score, kind="stable"):
        box = found[d]
        free = _inside(truth, box) & ~taken if len(truth) else np.zeros(0, bool)
        if free.any():
            centre = (box[:2] + box[2:]) / 2
            dist = np.where(free, np.linalg.norm(truth - centre, axis=1), np.inf)
            t = int(dist.argmin())
            taken[t] = True
            pairs.append((t, int(d)))
        elif len(ignore) and _inside(ignore, box).any():
            ignored += 1
    return pairs, ignored


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """One photo: expected vs found, one-to-one matches, and the ms the detector took."""

    file: str
    truth: str
    expected: int
    found: int
    matched: int
    ignored: int
    scores: list[float]
    ms: float

    @property
    def false_alarms(self) -> int:
        return self.found - self.matched - self.ignored

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "truth": self.truth, "expected": self.expected, "found": self.found,
            "matched": self.matched, "missed": self.expected - self.matched, "false_alarms": self.false_alarms,
            "ignored": self.ignored, "precision": _ratio(self.matched, self.matched + self.false_alarms),
            "recall": _ratio(self.matched, self.expected), "scores": [round(s, 3) for s in self.scores],
            "ms": round(self.ms, 1),
        }


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def totals(outcomes: Sequence[ImageOutcome]) -> dict[str, Any]:
    """Pooled figures over all photos (micro-averaged precision and recall)."""
    expected = sum(o.expected for o in outcomes)
    matched = sum(o.matched for o in outcomes)
    false_alarms = sum(o.false_alarms for o in outcomes)
    return {
        "images": len(outcomes),
        "expected": expected,
        "found": sum(o.found for o in outcomes),
        "matched": matched,
        "missed": expected - matched,
        "false_alarms": false_alarms,
        "ignored": sum(o.ignored for o in outcomes),
        "precision": _ratio(matched, matched + false_alarms),
        "recall": _ratio(matched, expected),
        "images_count_exact": sum(o.found - o.ignored == o.expected for o in outcomes),
        "images_all_found": sum(o.matched == o.expected for o in outcomes),
        "ms_per_image_median": round(float(np.median([o.ms for o in outcomes])), 1) if outcomes else None,
    }


def _read(media: Path, name: str) -> np.ndarray:
    frame = cv2.imread(str(media / name))
    if frame is None:
        raise FileNotFoundError(f"cannot read image {media / name}")
    return frame


def evaluate_persons(detect: Callable[[np.ndarray], Any], photos: Sequence[PhotoTruth], media: Path | None = None,
                     min_iou: float = 0.5, progress: Callable[[ImageOutcome], None] | None = None) -> list[ImageOutcome]:
    """Run a person detector (``Detections``-returning callable) on every photo with person boxes."""
    media = media or media_dir()
    out = []
    for photo in (p for p in photos if p.persons is not None):
        frame = _read(media, photo.file)
        start = time.perf_counter()
        people = detect(frame).people()
        ms = (time.perf_counter() - start) * 1000.0
        pairs = match_boxes(photo.persons, people.xyxy, people.score, min_iou)
        out.append(ImageOutcome(photo.file, photo.source, len(photo.persons), len(people), len(pairs), 0,
                                sorted(people.score.tolist(), reverse=True), ms))
        if progress is not None:
            progress(out[-1])
    return out


def evaluate_faces(detect: Callable[[np.ndarray], Any], photos: Sequence[PhotoTruth], media: Path | None = None,
                   progress: Callable[[ImageOutcome], None] | None = None) -> list[ImageOutcome]:
    """Run a face detector (``Faces``-returning callable) on every photo with face points."""
    media = media or media_dir()
    out = []
    for photo in (p for p in photos if p.faces is not None):
        frame = _read(media, photo.file)
        start = time.perf_counter()
        faces = detect(frame)
        ms = (time.perf_counter() - start) * 1000.0
        pairs, ignored = match_points(photo.faces, faces.xyxy, faces.score, photo.face_ignore)
        out.append(ImageOutcome(photo.file, photo.source, len(photo.faces), len(faces), len(pairs), ignored,
                                sorted(faces.score.tolist(), reverse=True), ms))
        if progress is not None:
            progress(out[-1])
    return out


def _progress(outcome: ImageOutcome) -> None:
    print(f"{outcome.file}: expected {outcome.expected}, found {outcome.found}, matched {outcome.matched}"
          + (f", ignored {outcome.ignored}" if outcome.ignored else "") + f" ({outcome.ms:.0f} ms)",
          file=sys.stderr, flush=True)


def _photos(truth: Path, media: Path | None) -> list[PhotoTruth]:
    try:
        return load_reference_photos(truth, media) + coco8_pose_photos(media)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _emit(result: dict[str, Any], as_json: bool) -> None:
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))


_TRUTH = typer.Option(REFERENCE_PHOTOS, "--truth", help="hand annotations of bus.jpg, zidane.jpg and the mask scenes")
_MEDIA = typer.Option(None, "--media-dir", help="media folder (default: $ANSHIN_MEDIA_DIR, else ../shared/data/media)")
_JSON = typer.Option(False, "--json", help="print the result as one JSON line")


def detect_command(
    detector: str = typer.Option("onnx", "--detector", help="backend: onnx | ultralytics"),
    model: str | None = typer.Option(None, "--model", help="model file in the models directory (default yolov8n_int8.onnx)"),
    imgsz: int | None = typer.Option(None, "--imgsz", help="network input side in pixels (default: the model's own)"),
    conf: float | None = typer.Option(None, "--conf", help="minimum person score (default 0.25)"),
    iou: float | None = typer.Option(None, "--iou", help="NMS IoU threshold (default 0.45)"),
    min_iou: float = typer.Option(0.5, "--match-iou", min=0.05, max=1.0, help="IoU at which a detection matches a labelled person"),
    threads: int | None = typer.Option(None, "--threads", help="intra-op threads (default: the runtime's choice)"),
    truth: Path = _TRUTH,
    media: Path | None = _MEDIA,
    as_json: bool = _JSON,
) -> None:
    """Persons on bus.jpg, zidane.jpg and coco8-pose: expected vs found, matched at IoU ≥ 0.5, precision, recall.

    Example: anshin eval detect --detector ultralytics --model yolo11n_int8.onnx --json
    Per-image progress goes to stderr; the result (with the detector settings) to stdout as JSON.
    """
    photos = _photos(truth, media)
    config = detector_config(detector, model, imgsz, conf, iou, None, 0.25, threads)
    # ultralytics logs model loading to stdout; keep stdout for the JSON result alone.
    with contextlib.redirect_stdout(sys.stderr):
        det = build_detector(config)
        outcomes = evaluate_persons(det.detect, photos, media, min_iou, _progress)
    # COCO-trained detectors saw the coco8-pose photos in training: flag them (models/cards/<model>.fit.json).
    fitted = fit_manifest.check_files([(media or media_dir()) / o.file for o in outcomes],
                                      fit_manifest.existing([fit_manifest.card_manifest(det.model_name)]))
    fit_manifest.warn(fitted)
    _emit({"task": "persons", **detector_settings(config, det), "match_iou": min_iou,
           "totals": totals(outcomes), "images": [o.as_dict() for o in outcomes], **fitted}, as_json)


def faces_command(
    score: float = typer.Option(0.6, "--score", min=0.0, max=1.0, help="YuNet minimum face score (the entrance analyzer's default)"),
    min_size: float = typer.Option(0.0, "--min-size", min=0.0, help="drop faces whose shorter side is below this, pixels (entrance: 32)"),
    truth: Path = _TRUTH,
    media: Path | None = _MEDIA,
    as_json: bool = _JSON,
) -> None:
    """YuNet faces on the reference photos, mask scenes and coco8-pose: expected vs found, precision, recall.

    A face counts as found when its box contains the annotated nose tip. Example: anshin eval faces --json
    """
    from edge.faces import YuNetConfig, YuNetFaceDetector

    photos = _photos(truth, media)
    try:
        faces = YuNetFaceDetector(YuNetConfig(score_threshold=score, min_size=min_size))
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    outcomes = evaluate_faces(faces.detect, photos, media, _progress)
    _emit({"task": "faces", "model": faces.model_name, "model_version": faces.model_version, "score": score,
           "min_size": min_size, "match": "annotated nose tip inside the face box",
           "totals": totals(outcomes), "images": [o.as_dict() for o in outcomes]}, as_json)
