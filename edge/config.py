"""Typed store config: one YAML file per store, validated before anything starts.

:func:`load_store_config` parses the YAML, validates it against :class:`StoreConfig`, runs the
cross-field checks (:data:`CHECKS`) and raises one :class:`ConfigError` that lists *every*
problem as ``line N dotted.field.path: message (got value)``, so an operator fixes a file in
one pass (the line finding lives in :mod:`edge.config_errors`). The ``analyzers`` section of
a camera is the union of the use cases' analyzer configs (:mod:`edge.usecases`), and each use
case adds its own checks. Relative paths in the file (video sources, the outbox) are resolved against the
directory of the YAML file, not the working directory, so a config means the same thing
wherever the worker is started.

>>> cfg = StoreConfig.model_validate({
...     "store_id": "s1", "cameras": {"c1": {"source": 0, "zones": {
...         "door": {"polygon": [[0, 0], [1, 0], [1, 1]]}},
...         "analyzers": [{"type": "occupancy", "zones": {"door": {"capacity": 2}}}]}}})
>>> cfg.cameras["c1"].source_kind, cfg.privacy_profile
('usb', 'minimal')
>>> [p.render() for p in run_checks(cfg)]
[]
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from edge.config_errors import (
    Check,
    ConfigError,
    ConfigProblem,
    duplicate_keys,
    from_pydantic,
    locate,
    parse_yaml,
)
from edge.detectors.config import DetectorConfig, OnnxDetectorConfig
from edge.geometry import polygon_area
from edge.publish.config import MqttConfig
from edge.sources.sensors.config import SensorConfig
from edge.tracking import TrackerConfig
from edge.usecases import analyzer_config_union, config_checks
from services.contract.events import MAX_BATCH, Identifier
from services.shared.config_fields import EnvName
from services.shared.placeholders import is_placeholder
from services.shared.strict import Strict

PrivacyProfile = Literal["minimal", "standard", "identified"]


class CentralConfig(Strict):
    """Where the publisher sends events, and how patiently."""

    url: str = Field(default="http://127.0.0.1:8000", description="base URL of the central service")
    api_key_env: EnvName = Field(
        default="ANSHIN_EDGE_KEY", description="name of the environment variable holding the API key (never the key itself)"
    )
    connect_timeout_s: float = Field(default=3.0, gt=0, le=120, description="TCP connect timeout, seconds")
    read_timeout_s: float = Field(default=15.0, gt=0, le=600, description="response timeout, seconds")
    batch_size: int = Field(default=100, ge=1, le=MAX_BATCH, description="events per POST")
    retry_initial_s: float = Field(default=0.5, gt=0, le=60, description="first retry delay, seconds")
    retry_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest retry delay, seconds")
    status_interval_s: float = Field(default=15.0, gt=0, le=3600, description="seconds between edge status reports to central")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL such as http://central:8000")
        return value.rstrip("/")

    def api_key(self) -> str:
        """The API key from the environment; a clear error when the variable is unset or empty."""
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise MissingApiKeyError(
                f"environment variable {self.api_key_env} (central.api_key_env) is not set; "
                f"put the edge's API key (scope events:write) there"
            )
        if is_placeholder(key):
            raise MissingApiKeyError(
                f"environment variable {self.api_key_env} (central.api_key_env) still holds a placeholder of "
                f"docker/env.example: set it to the key `anshin keys create --store ...` printed"
            )
        return key


class MissingApiKeyError(RuntimeError):
    """The configured API key environment variable is unset."""


class OutboxConfig(Strict):
    path: Path = Field(
        default=Path("outbox.sqlite"), validate_default=True, description="SQLite file; relative to the YAML file's folder"
    )

    @field_validator("path")
    @classmethod
    def _relative_to_yaml(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve(value, info)


class ReconnectConfig(Strict):
    """Exponential backoff for a camera that fails: initial, 2x, 4x, ... capped at max_delay_s."""

    initial_delay_s: float = Field(default=0.5, gt=0, le=60, description="first wait, seconds")
    max_delay_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait, seconds")
    max_retries: int = Field(default=10, ge=0, le=1_000_000, description="attempts before giving up")


Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class ZoneConfig(Strict):
    """A named region of a camera's frame (the name is its key under ``zones``); use cases pick zones by name."""

    polygon: list[tuple[Unit, Unit]] = Field(min_length=3, description="vertices x, y as fractions (0-1) of the frame")
    kind: Identifier = Field(default="area", description="what the zone is (area, queue, checkout, ...), for use cases and maps")

    @field_validator("polygon")
    @classmethod
    def _has_area(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if polygon_area(value) < 1e-6:
            raise ValueError("polygon has no area (vertices on one line, or repeated)")
        return value


# One of the registered use cases' analyzer configs, by ``type`` (edge/usecases/__init__.py lists them).
AnalyzerConfig = analyzer_config_union()


class CameraConfig(Strict):
    source: StrictInt | str = Field(
        description="video file (relative to the YAML file), rtsp:// or http(s):// URL, or USB camera index"
    )
    loop: bool = Field(default=False, description="restart a video file at its end")
    fps_limit: float | None = Field(default=None, gt=0, le=240, description="process at most this many frames per second")
    reconnect: ReconnectConfig = ReconnectConfig()
    detector: DetectorConfig = OnnxDetectorConfig()
    detect_every: int = Field(default=1, ge=1, le=100, description="run the detector every Nth frame; the tracker carries in between")
    tracker: TrackerConfig = TrackerConfig()
    zones: dict[Identifier, ZoneConfig] = Field(default_factory=dict)
    analyzers: list[AnalyzerConfig] = Field(default_factory=list)
    live_snapshot_s: float = Field(
        default=0.0, ge=0, le=3600,
        description="seconds between blurred live pictures sent to central's store view; 0: none (never under minimal)",
    )

    @field_validator("source")
    @classmethod
    def _resolve_file(cls, value: int | str, info: ValidationInfo) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("a USB camera index must be >= 0")
            return value
        if not value.strip():
            raise ValueError("must name a video file, a URL or a USB camera index")
        if _is_url(value):
            return value
        return str(_resolve(Path(value), info))

    @property
    def source_kind(self) -> Literal["usb", "url", "file"]:
        if isinstance(self.source, int):
            return "usb"
        return "url" if _is_url(self.source) else "file"


class StoreConfig(Strict):
    store_id: Identifier
    privacy_profile: PrivacyProfile = Field(
        default="minimal", description="minimal: counts only, no images; standard: blurred evidence; identified: opt-in only"
    )
    central: CentralConfig = CentralConfig()
    publisher: Literal["http", "mqtt"] = Field(default="http", description="http: POST to central.url; mqtt: publish to mqtt.url (QoS 1)")
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = Field(default_factory=lambda: {}, validate_default=True)  # type: ignore[arg-type]
    cameras: dict[Identifier, CameraConfig] = Field(min_length=1)
    sensors: list[SensorConfig] = Field(
        default_factory=list, description="non-camera sensors (MQTT topic, Modbus TCP); analyzers name the ones they read by id"
    )

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The YAML file this config came from (None when built in code)."""
        return self._path

    def sensors_by_id(self) -> dict[str, SensorConfig]:
        return {sensor.id: sensor for sensor in self.sensors}

    def camera(self, camera_id: str) -> CameraConfig:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise KeyError(f"store {self.store_id!r} has no camera {camera_id!r}; cameras: {sorted(self.cameras)}") from None


def _is_url(value: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value))


def _resolve(path: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = path.expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return Path(os.path.normpath(path))


# --------------------------------------------------------------------------- cross-field checks


def _uses_zones(analyzer: Any) -> bool:
    """Analyzers that work on zones declare a ``zones`` field: names (list) or per-zone settings (dict); None = all."""
    return "zones" in type(analyzer).model_fields


def check_analyzer_zone_refs(store: StoreConfig) -> Iterator[ConfigProblem]:
    """Every zone an analyzer names is defined on its camera, and a zone analyzer has a zone to watch."""
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            if not _uses_zones(analyzer):
                continue
            loc = ("cameras", cam_id, "analyzers", i)
            if analyzer.zones is None and not cam.zones:
                yield ConfigProblem((*loc, "type"), f"analyzer {analyzer.type!r} needs zones, but camera {cam_id!r} defines none")
            named = analyzer.zones or []
            refs = [(name, name) for name in named] if isinstance(named, dict) else list(enumerate(named))
            for part, name in refs:
                if name not in cam.zones:
                    hint = difflib.get_close_matches(name, list(cam.zones), n=1)
                    extra = f"; did you mean {hint[0]!r}?" if hint else ""
                    yield ConfigProblem(
                        (*loc, "zones", part),
                        f"unknown zone; camera {cam_id!r} defines {sorted(cam.zones)}{extra}",
                        name,
                    )


def check_sensor_refs(store: StoreConfig) -> Iterator[ConfigProblem]:
    """Sensor ids are unique in the store, and every sensor an analyzer names is defined."""
    seen: set[str] = set()
    for i, sensor in enumerate(store.sensors):
        if sensor.id in seen:
            yield ConfigProblem(("sensors", i, "id"), "duplicate sensor id; each sensor needs its own", sensor.id)
        seen.add(sensor.id)
    for cam_id, cam in store.cameras.items():
        for i, analyzer in enumerate(cam.analyzers):
            for j, name in enumerate(getattr(analyzer, "sensors", None) or []):
                if name not in seen:
                    hint = difflib.get_close_matches(name, sorted(seen), n=1)
                    extra = f"; did you mean {hint[0]!r}?" if hint else ""
                    yield ConfigProblem(("cameras", cam_id, "analyzers", i, "sensors", j),
                                        f"unknown sensor; the store defines {sorted(seen)}{extra}", name)


def check_file_sources_exist(store: StoreConfig) -> Iterator[ConfigProblem]:
    """A video file source exists (named with its resolved path)."""
    for cam_id, cam in store.cameras.items():
        if cam.source_kind == "file" and not Path(str(cam.source)).is_file():
            yield ConfigProblem(("cameras", cam_id, "source"), f"video file {cam.source} does not exist")


def check_loop_only_for_files(store: StoreConfig) -> Iterator[ConfigProblem]:
    """``loop`` restarts a file; on a live stream it would silently mean nothing."""
    for cam_id, cam in store.cameras.items():
        if cam.loop and cam.source_kind != "file":
            yield ConfigProblem(("cameras", cam_id, "loop"), f"loop applies to video files only; this source is a {cam.source_kind} camera", True)


def check_detector_models_exist(store: StoreConfig) -> Iterator[ConfigProblem]:
    """The detector's model files (its own and a near-field model's) can be found (models directory or path)."""
    from edge.paths import resolve_model

    for cam_id, cam in store.cameras.items():
        named = [(("cameras", cam_id, "detector", "model"), cam.detector.model)]
        if cam.detector.near is not None:
            named.append((("cameras", cam_id, "detector", "near", "model"), cam.detector.near.model))
        for where, model in named:
            try:
                resolve_model(model)
            except FileNotFoundError as exc:
                yield ConfigProblem(where, str(exc).split(". ")[0])


def check_retry_bounds(store: StoreConfig) -> Iterator[ConfigProblem]:
    """Initial delays do not exceed their caps."""
    if store.central.retry_initial_s > store.central.retry_max_s:
        yield ConfigProblem(("central", "retry_initial_s"), "larger than central.retry_max_s", store.central.retry_initial_s)
    for cam_id, cam in store.cameras.items():
        if cam.reconnect.initial_delay_s > cam.reconnect.max_delay_s:
            yield ConfigProblem(
                ("cameras", cam_id, "reconnect", "initial_delay_s"), "larger than reconnect.max_delay_s", cam.reconnect.initial_delay_s
            )


CHECKS: tuple[Check, ...] = (
    check_analyzer_zone_refs,
    check_sensor_refs,
    check_file_sources_exist,
    check_loop_only_for_files,
    check_detector_models_exist,
    check_retry_bounds,
    *config_checks(),  # each use case's own (edge/usecases/<name>/)
)


def run_checks(store: StoreConfig, checks: Sequence[Check] = CHECKS) -> list[ConfigProblem]:
    return [problem for check in checks for problem in check(store)]


# --------------------------------------------------------------------------- loading with line numbers


def load_store_config(path: str | os.PathLike[str], *, checks: Sequence[Check] = CHECKS) -> StoreConfig:
    """Read, validate and cross-check one store YAML file.

    Raises:
        ConfigError: listing every problem with its line number and field path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, [ConfigProblem((), f"config file {path} does not exist")]) from None
    except OSError as exc:
        raise ConfigError(path, [ConfigProblem((), f"cannot read {path}: {exc.strerror}")]) from None
    root, data = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise ConfigError(path, [ConfigProblem((), "must be a YAML mapping with store_id, cameras, ...", data, line=1)])

    problems = list(duplicate_keys(root))
    context = {"base_dir": path.resolve().parent}
    config: StoreConfig | None = None
    try:
        config = StoreConfig.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [from_pydantic(err, StoreConfig) for err in exc.errors(include_url=False)]
    # Cross-field checks also run on the cameras that did validate, so one pass lists everything.
    problems += run_checks(config if config is not None else _valid_parts(data, context), checks)
    if problems:
        located = [locate(p, root) for p in problems]
        raise ConfigError(path, sorted(located, key=lambda p: (p.line, p.path)))
    assert config is not None
    config._path = path.resolve()
    return config


def _valid_parts(data: dict[str, Any], context: dict[str, Any]) -> StoreConfig:
    """A StoreConfig of just the sections that validate on their own (unvalidated shell around them)."""

    def valid(model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value, context=context)
        except ValidationError:
            return None

    cameras = data.get("cameras") if isinstance(data.get("cameras"), dict) else {}
    good = {str(k): cam for k, v in cameras.items() if (cam := valid(CameraConfig, v)) is not None}
    central = valid(CentralConfig, data.get("central") or {}) or CentralConfig()
    return StoreConfig.model_construct(store_id=str(data.get("store_id")), central=central, cameras=good)


__all__ = [
    "AnalyzerConfig", "CameraConfig", "CentralConfig", "ConfigError", "ConfigProblem", "MissingApiKeyError",
    "OutboxConfig", "StoreConfig", "ZoneConfig", "load_store_config", "run_checks",
]
