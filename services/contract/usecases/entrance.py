"""Use case A (entrance screening): masks and body temperature, decided by staff.

The edge's entrance analyzer (``edge/usecases/entrance``) emits both types. Faces are anonymous
track numbers on one camera, never identities; a suspected fever is a prompt to confirm with a
clinical thermometer, decided by two different people.

>>> NoMaskPayload.model_validate({"p_mask": 0.1, "frames": 3, "face_track": 4,
...     "models": {"face_detector": "yunet@1", "mask_classifier": "head@2"}}).p_mask
0.1
>>> [t.type for t in EVENT_TYPES]
['entrance.no_mask', 'entrance.fever_suspected']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Celsius, Count, EventTypeSpec, Fraction, Payload, Text

ModelName = Annotated[str, Field(max_length=256)]


class ModelVersions(Payload):
    """Every model (and correction) behind the decision, as ``name@version``."""

    face_detector: ModelName
    mask_classifier: ModelName
    thermal_correction: ModelName | None = None
    calibration: ModelName | None = None


class FacePayload(Payload):
    """What every entrance event says about the face it is about."""

    frames: Annotated[int, Field(ge=1, le=100_000)] = Field(description="frames the decision is based on")
    face_track: Count = Field(description="anonymous face number on this camera (never an identity)")
    models: ModelVersions


class NoMaskPayload(FacePayload):
    """``entrance.no_mask``: no mask seen over several frames."""

    p_mask: Fraction = Field(description="mean mask probability over the frames")


class FeverSuspectedPayload(FacePayload):
    """``entrance.fever_suspected``: estimated body temperature at or above the threshold."""

    core_c: Celsius = Field(description="estimated body temperature (median over the frames)")
    raw_c: Celsius = Field(description="camera reading at the inner eye corners, before corrections")
    corrected_c: Celsius = Field(description="camera reading after blackbody drift and emissivity")
    ambient_c: Celsius = Field(description="room temperature")
    blackbody_measured_c: Celsius
    blackbody_expected_c: Celsius
    blackbody_drift_c: Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
    interocular_px: Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False)]
    canthus_coupling: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    skin_emissivity: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    action: Text = Field(description="what staff should do, in plain words")


EVENT_TYPES = (
    EventTypeSpec("entrance.no_mask", UseCase.A, Severity.NOTICE, NoMaskPayload,
                  "no mask seen on a face at the entrance"),
    EventTypeSpec("entrance.fever_suspected", UseCase.A, Severity.WARNING, FeverSuspectedPayload,
                  "possible fever at the entrance; staff confirm with a clinical thermometer",
                  review=True, two_person=True, review_deadline_s=300),
)
