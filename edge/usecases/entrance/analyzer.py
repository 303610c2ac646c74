"""Use case A: entrance screening — mask wearing and body-surface temperature, decided by staff.

Per frame: the faces YuNet found in the frame (shared by every analyzer, :meth:`FrameContext.faces`)
at or above ``face_score`` and ``min_face_px`` are screened; each face joins a short-lived anonymous track (box overlap only,
nothing about who the person is); the mask classifier scores its crop; with a thermal camera,
the inner canthi are registered into the thermal frame and read (drift, emissivity and ambient
corrected, see :mod:`edge.usecases.entrance.thermal.reading`). Once a track has ``min_frames`` observations:

* ``entrance.no_mask`` (notice, no review) when its mean P(mask) is below the threshold;
* ``entrance.fever_suspected`` (warning, **review required**: staff confirm with a clinical
  thermometer) when its median estimated core temperature is at or above the threshold. The
  explanation carries raw, corrected and core temperatures, the threshold, blackbody drift,
  ambient and every model version.

Each track yields each event type at most once. Privacy: the events carry the face box and
scores only, never an identity, embedding or face image. A suspected fever asks for a picture of
its frame (:class:`EvidenceRequest`) that the worker's evidence stage makes as the profile
allows: none under ``minimal``, every face and head blurred under ``standard``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import numpy as np

from edge.detections import Detections
from edge.faces import Faces
from edge.usecases.base import EvidenceRequest, FrameContext
from edge.usecases.entrance.config import EntranceAnalyzerConfig
from edge.usecases.entrance.masks.pipeline import face_crops
from edge.usecases.entrance.thermal.reading import BlackbodyMonitor, TemperatureReading, read_temperature
from edge.usecases.entrance.thermal.registration import rgb_to_thermal, scale_to_calibration
from services.contract import Box, Event, Evidence, Explanation, ModelRef, Severity, UseCase
from services.shared.boxes import box_iou

log = logging.getLogger(__name__)

NO_MASK = "entrance.no_mask"
FEVER = "entrance.fever_suspected"


@dataclass
class FaceTrack:
    """An anonymous face seen over consecutive frames (a local number, never an identity)."""

    track_id: int
    box: np.ndarray
    last_seen: datetime
    p_mask: list[float] = field(default_factory=list)
    readings: list[TemperatureReading] = field(default_factory=list)
    emitted: set[str] = field(default_factory=set)


def _mask_classifier(name: str) -> Any:
    if name == "linear":
        from edge.usecases.entrance.masks.linear import LinearMaskClassifier

        return LinearMaskClassifier()
    if name == "mobilenetv2":
        from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier

        return MobileNetV2MaskClassifier()
    from edge.usecases.entrance.masks.aizoo import AizooMaskClassifier

    return AizooMaskClassifier()


class EntranceAnalyzer:
    """Screens faces at the entrance; see the module docstring for the rules.

    Args:
        config: the analyzer's section of the store config.
        zones: the camera's zones (unused; the worker passes them to every analyzer).
        masks / thermal: ready components (tests, benchmarks); default: built from ``config``.

    Faces come from the frame context; :attr:`face_score` tells the worker the lowest face
    score this analyzer screens, so its shared face detector finds at least those.
    """

    use_case: ClassVar[UseCase] = UseCase.A
    type: ClassVar[str] = "entrance"

    def __init__(self, config: EntranceAnalyzerConfig | None = None, zones: object = None, *,
                 masks: Any | None = None, thermal: Any | None = None) -> None:
        self.config = config or EntranceAnalyzerConfig()
        self.face_score = self.config.face_score
        self.masks = masks or _mask_classifier(self.config.mask_classifier)
        self.calibration = None
        self.thermal = thermal
        if self.config.thermal is not None:
            from edge.usecases.entrance.thermal.calibration import load_calibration
            from edge.usecases.entrance.thermal.provider import make_provider

            self.calibration = load_calibration(self.config.thermal.calibration)
            self.thermal = thermal or make_provider(self.config.thermal.source, self.calibration)
        self._blackbody = BlackbodyMonitor()  # one per thermal camera: is its reference steady over time?
        self._tracks: list[FaceTrack] = []
        self._next_id = 1
        self._epoch: datetime | None = None

    # ------------------------------------------------------------------ the pipeline

    def update(self, tracks: Detections, ctx: FrameContext) -> Iterator[Event]:
        """Screen the faces of ``ctx`` (the person tracks are not needed)."""
        if ctx.frame is None:
            return
        yield from self.screen(ctx.frame, ctx, self.screened(ctx.faces()))

    def screened(self, faces: Faces) -> Faces:
        """The faces this analyzer decides on: score at least ``face_score``, shorter side at least ``min_face_px``."""
        side = np.minimum(faces.xyxy[:, 2] - faces.xyxy[:, 0], faces.xyxy[:, 3] - faces.xyxy[:, 1])
        return faces[(faces.score >= self.config.face_score) & (side >= self.config.min_face_px)]

    def screen(self, frame: np.ndarray, ctx: FrameContext, faces: Faces) -> Iterator[Event]:
        matched = self._match(faces, ctx.at)
        crops = face_crops(frame, faces)
        p_mask = self.masks.predict([c.crop for c in crops]) if len(faces) else np.zeros(0)
        readings = self._read_thermal(faces, matched, ctx)
        for k, track in enumerate(matched):
            track.p_mask.append(float(p_mask[k]))
            if readings[k] is not None:
                track.readings.append(readings[k])
            yield from self._decide(track, faces[k : k + 1], ctx)

    def _match(self, faces: Faces, at: datetime) -> list[FaceTrack]:
        """Greedy IoU association with live tracks; unmatched faces start new anonymous tracks."""
        max_age = self.config.track_max_age_s
        self._tracks = [t for t in self._tracks if (at - t.last_seen).total_seconds() <= max_age]
        out: list[FaceTrack | None] = [None] * len(faces)
        if self._tracks and len(faces):
            overlap = box_iou(faces.xyxy, np.stack([t.box for t in self._tracks]))
            used: set[int] = set()
            for flat in np.argsort(-overlap, axis=None):
                i, j = divmod(int(flat), overlap.shape[1])
                if overlap[i, j] < self.config.track_iou:
                    break
                if out[i] is None and j not in used:
                    out[i] = self._tracks[j]
                    used.add(j)
        for i in range(len(faces)):
            if out[i] is None:
                out[i] = FaceTrack(self._next_id, faces.xyxy[i].copy(), at)
                self._next_id += 1
                self._tracks.append(out[i])  # type: ignore[arg-type]
            out[i].box = faces.xyxy[i].copy()  # type: ignore[union-attr]
            out[i].last_seen = at  # type: ignore[union-attr]
        return out  # type: ignore[return-value]

    def _read_thermal(self, faces: Faces, matched: list[FaceTrack], ctx: FrameContext) -> list[TemperatureReading | None]:
        none: list[TemperatureReading | None] = [None] * len(faces)
        if self.thermal is None or self.calibration is None or not len(faces):
            return none
        if self._epoch is None:
            self._epoch = ctx.at
        at_s = (ctx.at - self._epoch).total_seconds()
        thermal = self.thermal.frame_for(at_s, faces, [t.track_id for t in matched], ctx.frame_size)
        if thermal is None:
            return none
        cal = self.calibration
        canthi = rgb_to_thermal(scale_to_calibration(faces.inner_canthi(), ctx.frame_size, cal.rgb_size), cal.h)
        boxes = rgb_to_thermal(scale_to_calibration(faces.xyxy.reshape(-1, 2, 2), ctx.frame_size, cal.rgb_size), cal.h).reshape(-1, 4)
        ambient = self.config.thermal.ambient_c if self.config.thermal else None
        out = none
        for k in range(len(faces)):
            iod = float(np.hypot(*(canthi[k, 0] - canthi[k, 1]))) * 2  # canthi sit half an eye distance apart
            if iod < cal.min_interocular_px:
                continue  # too far away: the canthus spans too few thermal pixels to be trusted
            try:
                reading = read_temperature(thermal, canthi[k], cal, boxes, ambient, self._blackbody)
            except ValueError as exc:
                log.debug("face %d: no thermal reading (%s)", matched[k].track_id, exc)
                continue
            if reading.refusal is not None:  # an untrusted frame gives no temperature: it does not count
                log.debug("face %d: thermal reading refused (%s: %s)", matched[k].track_id, reading.refusal, reading.why)
                continue
            out[k] = reading
        return out

    # ------------------------------------------------------------------ decisions and events

    def _decide(self, track: FaceTrack, face: Faces, ctx: FrameContext) -> Iterator[Event]:
        cfg = self.config
        if NO_MASK not in track.emitted and len(track.p_mask) >= cfg.min_frames:
            p = float(np.mean(track.p_mask[-cfg.min_frames :]))
            if p < cfg.mask_threshold:
                track.emitted.add(NO_MASK)
                yield self._no_mask_event(track, face, ctx, p)
        if FEVER not in track.emitted and len(track.readings) >= cfg.min_frames:
            recent = track.readings[-cfg.min_frames :]
            core = float(np.median([r.core_c for r in recent]))
            if core >= cfg.fever_threshold_c:
                track.emitted.add(FEVER)
                yield self._fever_event(track, face, ctx, recent, core)

    def _models(self, ctx: FrameContext) -> dict[str, str]:
        finder = ctx.face_finder
        return {
            "face_detector": f"{getattr(finder, 'model_name', 'unknown')}@{getattr(finder, 'model_version', 'unknown')}",
            "mask_classifier": f"{self.masks.model_name}@{self.masks.model_version}",
        }

    def _evidence(self, track: FaceTrack, face: Faces, ctx: FrameContext, scores: dict[str, float]) -> Evidence:
        box = Box(xyxy=tuple(float(v) for v in face.xyxy[0]), label="face", score=float(face.score[0]), track_id=track.track_id)
        return Evidence(frame_size=ctx.frame_size, boxes=[box], scores=scores)

    def _no_mask_event(self, track: FaceTrack, face: Faces, ctx: FrameContext, p: float) -> Event:
        cfg = self.config
        scores = {"p_mask": round(p, 4)}
        return Event(
            type=NO_MASK, use_case=UseCase.A, store_id=ctx.store_id, camera_id=ctx.camera_id,
            occurred_at=ctx.at, severity=Severity.NOTICE, review_required=False,
            payload={"p_mask": round(p, 4), "frames": cfg.min_frames, "face_track": track.track_id, "models": self._models(ctx)},
            evidence=self._evidence(track, face, ctx, scores),
            explanation=Explanation(
                rule="mask_not_detected",
                summary=f"No mask seen: mean mask probability {p:.2f} over {cfg.min_frames} frames is below {cfg.mask_threshold:.2f}.",
                thresholds={"mask_threshold": cfg.mask_threshold},
                measured={"p_mask": round(p, 4)},
                model=ModelRef(name=self.masks.model_name, version=str(self.masks.model_version)[:64]),
            ),
        )

    def _fever_event(self, track: FaceTrack, face: Faces, ctx: FrameContext, recent: list[TemperatureReading],
                     core: float) -> Event:
        cfg = self.config
        r = min(recent, key=lambda x: abs(x.core_c - core))  # the reading closest to the median, reported in full
        measured = {
            "core_c": round(core, 2),
            "raw_c": round(r.raw_c, 2),
            "corrected_c": round(r.corrected_c, 2),
            "ambient_c": round(r.ambient_c, 2),
            "blackbody_measured_c": round(r.blackbody.measured_c, 2),
            "blackbody_expected_c": round(r.blackbody.expected_c, 2),
            "blackbody_drift_c": round(r.blackbody.drift_c, 2),
            "interocular_px": round(r.interocular_px, 1),
        }
        assert self.calibration is not None
        thresholds = {"fever_threshold_c": cfg.fever_threshold_c, "blackbody_set_point_c": self.calibration.blackbody.set_point_c}
        models = {**self._models(ctx), "thermal_correction": "blackbody-offset+emissivity+canthus-coupling@v1",
                  "calibration": str(cfg.thermal.calibration.name) if cfg.thermal else ""}
        event = Event(
            type=FEVER, use_case=UseCase.A, store_id=ctx.store_id, camera_id=ctx.camera_id,
            occurred_at=ctx.at, severity=Severity.WARNING, review_required=True,
            payload={**measured, "frames": len(recent), "face_track": track.track_id, "models": models,
                     "canthus_coupling": self.calibration.canthus_coupling, "skin_emissivity": self.calibration.skin_emissivity,
                     "action": "confirm with a clinical thermometer before any decision"},
            evidence=self._evidence(track, face, ctx, {"core_c": round(core, 2)}),
            explanation=Explanation(
                rule="body_temperature_over_threshold",
                summary=(f"Estimated body temperature {core:.1f} °C (camera {r.raw_c:.1f} °C raw, {r.corrected_c:.1f} °C after "
                         f"blackbody drift {r.blackbody.drift_c:+.1f} °C) is at or above {cfg.fever_threshold_c:.1f} °C; "
                         "confirm with a clinical thermometer."),
                thresholds=thresholds,
                measured=measured,
                model=ModelRef(name="thermal_correction", version="v1"),
            ),
        )
        # Staff review a fever with the frame: the visitor's face is shown, and blurred (standard).
        xyxy = event.evidence.boxes[0].xyxy  # type: ignore[union-attr]
        return ctx.with_evidence(event, EvidenceRequest(blur=((xyxy, "face"),)))
