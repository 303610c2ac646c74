"""Recorded landmark traces for evaluating air-touch, made from the real hand photos.

Each trace moves one photo of ``media/hands`` along a known path in front of a virtual kiosk: the
photo is scaled (hand size ↔ distance to the screen, through the kiosk's depth calibration) and
shifted (fingertip ↔ screen point, through the inverse of its homography) onto a 640x480 grey
camera frame, with hand tremor and sensor noise, and MediaPipe Hands (video mode) runs on every
frame. The trace keeps what MediaPipe found (21 landmarks per frame, or nothing) and the truth:
the intended screen point, the distance, and the actions, ``push`` (through the press plane to
1.5 cm and back) or ``dip`` (a hover down to 8 cm, above the plane, which must not press).

Everything is drawn from ``numpy.random.default_rng`` with the trace's seed, and each frame's
render parameters are stored, so ``render_frame`` rebuilds any frame exactly (the evaluation times
the detector on them). Regenerate the committed traces with::

    anshin airtouch record-traces --out tests/data/airtouch --seed 1
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.usecases.airtouch.config import AirTouchConfig
from edge.usecases.airtouch.geometry import INDEX_TIP, hand_px

FPS = 30
#: 2: the hand's size (anchor, render scale) is its knuckle row, no longer the wrist/index/pinky triangle
VERSION = 2
HOVER_CM, PUSH_CM, DIP_CM = (14.0, 18.0), 1.5, 8.0
BACKGROUND = 118  # grey camera background
SENSOR_NOISE = 3.0  # std of the added pixel noise (0-255)
TREMOR_PX = 0.8  # std of the fingertip's tremor in camera px
PHOTOS = ("fist.jpg", "hand_achintha.jpg", "hand_front_back.jpg", "pointing_up.jpg", "thumbs_down.jpg",
          "thumbs_up.jpg", "victory.jpg", "woman_hands.jpg")


@dataclass(frozen=True)
class Anchor:
    """The hand as found on the untouched photo: where its fingertip is and how big the hand is
    (:func:`~edge.usecases.airtouch.geometry.hand_px`, the knuckle row)."""

    tip: tuple[float, float]
    size: float


def _smooth(a: float, b: float, n: int) -> list[float]:
    s = np.linspace(0, 1, n)
    return list(a + (b - a) * (3 * s**2 - 2 * s**3))


def plan(config: AirTouchConfig, rng: np.random.Generator, actions: int = 4) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Frames (screen target, distance) and actions of one path: hover, then ``actions`` times
    (move to a new point, push or dip there), pushes and dips alternating from a random start."""
    w, h = config.screen
    margin = 0.12
    point = lambda: (float(rng.uniform(margin * w, (1 - margin) * w)), float(rng.uniform(margin * h, (1 - margin) * h)))  # noqa: E731
    frames: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    here, d = point(), float(rng.uniform(*HOVER_CM))
    frames += [{"target": here, "distance_cm": d}] * 10
    kinds = ["push", "dip"] if rng.random() < 0.5 else ["dip", "push"]
    for i in range(actions):
        there, hover = point(), float(rng.uniform(*HOVER_CM))
        n = int(rng.integers(14, 22))
        xs, ys, ds = _smooth(here[0], there[0], n), _smooth(here[1], there[1], n), _smooth(d, hover, n)
        frames += [{"target": (x, y), "distance_cm": z} for x, y, z in zip(xs, ys, ds, strict=True)]
        kind = kinds[i % 2]
        low = PUSH_CM if kind == "push" else DIP_CM
        start = len(frames)
        down, up = int(rng.integers(9, 13)), int(rng.integers(9, 13))
        depth = _smooth(hover, low, down) + [low] * int(rng.integers(3, 7)) + _smooth(low, hover, up)
        frames += [{"target": there, "distance_cm": z} for z in depth]
        marks.append({"kind": kind, "start": start, "end": len(frames) - 1, "target": list(there)})
        frames += [{"target": there, "distance_cm": hover}] * int(rng.integers(6, 12))
        here, d = there, hover
    return frames, marks


def render_frame(photo: np.ndarray, anchor: Anchor, params: tuple[float, float, float], noise_seed: list[int],
                 size: tuple[int, int]) -> np.ndarray:
    """The photo scaled by ``s`` and shifted by ``(tx, ty)`` onto a grey frame, plus sensor noise."""
    import cv2

    s, tx, ty = params
    m = np.array([[s, 0, tx], [0, s, ty]], dtype=np.float64)
    frame = cv2.warpAffine(photo, m, size, flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(BACKGROUND,) * 3)
    noise = np.random.default_rng(noise_seed).normal(0, SENSOR_NOISE, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def find_anchor(photo: np.ndarray) -> Anchor:
    from edge.usecases.airtouch.detector import HandDetector, nearest_hand

    with HandDetector(video=False) as det:
        hand = nearest_hand(det.detect(photo))
    if hand is None:
        raise ValueError("no hand found on the photo")
    tip = hand.landmarks[INDEX_TIP]
    return Anchor((float(tip[0]), float(tip[1])), hand_px(hand.landmarks))


def record(photo_path: Path, seed: int, config: AirTouchConfig | None = None) -> dict[str, Any]:
    """One trace of one photo (runs MediaPipe on every frame: about 30 ms each)."""
    import cv2

    from edge.usecases.airtouch.detector import HandDetector, nearest_hand

    config = config or AirTouchConfig()
    photo = cv2.imread(str(photo_path))
    if photo is None:
        raise FileNotFoundError(f"{photo_path}: not a readable image")
    anchor = find_anchor(photo)
    rng = np.random.default_rng([seed, *photo_path.name.encode()])
    planned, actions = plan(config, rng)
    to_camera, depth = config.homography().inverse(), config.depth.model()
    frames = []
    with HandDetector(video=True) as det:
        for i, f in enumerate(planned):
            cx, cy = to_camera.apply(*f["target"])
            cx, cy = cx + rng.normal(0, TREMOR_PX), cy + rng.normal(0, TREMOR_PX)
            s = depth.size_at(f["distance_cm"]) / anchor.size
            params = (round(s, 5), round(cx - s * anchor.tip[0], 3), round(cy - s * anchor.tip[1], 3))
            noise_seed = [seed, i]
            hand = nearest_hand(det.detect(render_frame(photo, anchor, params, noise_seed, config.camera)))
            frames.append({
                "t": round(i / FPS, 4), "target": [round(v, 2) for v in f["target"]], "distance_cm": round(f["distance_cm"], 3),
                "render": list(params), "noise_seed": noise_seed,
                "landmarks": None if hand is None else np.round(hand.landmarks, 2).tolist(),
            })
    return {"version": VERSION, "photo": photo_path.name, "seed": seed, "fps": FPS, "config": config.model_dump(mode="json"),
            "anchor": {"tip": list(anchor.tip), "size": anchor.size}, "actions": actions, "frames": frames}


def write_traces(media: Path, out: Path, seed: int, photos: tuple[str, ...] = PHOTOS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in photos:
        trace = record(media / name, seed)
        path = out / f"{Path(name).stem}.json"
        path.write_text(json.dumps(trace, separators=(",", ":")) + "\n", encoding="utf-8")
        written.append(path)
    return written


def load_traces(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every ``*.json`` trace in ``folder``, checked for the fields the evaluation reads."""
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no air-touch traces (*.json); record them with `anshin airtouch record-traces`")
    for path in paths:
        try:
            trace = json.loads(path.read_text(encoding="utf-8"))
            if trace.get("version") != VERSION or not isinstance(trace.get("frames"), list) or not isinstance(trace.get("actions"), list):
                raise ValueError(f"not a version-{VERSION} air-touch trace (version, frames, actions); "
                                 "record it again with `anshin airtouch record-traces`")
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        yield path, trace
