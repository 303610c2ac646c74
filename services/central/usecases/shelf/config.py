"""Central's restocking settings for one store (``config/shelf-<store>.yaml``).

Where each SKU is refilled from (a floor-graph node, or a plain position when no floor plan
exists), whether a robot can carry it, its sales rate when J has no sales for it, the robots of
the store, thresholds and timeouts.

>>> cfg = ShelfConfig.model_validate({"store_id": "s1", "skus": {"tea": {"node": "aisle", "sales_per_day": 3}}})
>>> cfg.skus["tea"].robot, cfg.min_units
(True, 2)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from services.contract.events import Identifier
from services.shared.strict import Strict
from services.shared.yaml_files import load_yaml_model


class SkuSettings(Strict):
    node: Identifier = Field(description="floor-graph node in front of the SKU's shelf (drop point)")
    position: tuple[float, float] | None = Field(default=None, description="x, y in metres when there is no floor plan")
    robot: bool = Field(default=True, description="a robot can carry it (false: always a staff task)")
    sales_per_day: float = Field(default=1.0, ge=0.0, description="units sold a day when J has no sales for it")


class DemoRobot(Strict):
    serial: Identifier = "amr-1"
    fail: Literal["pick", "drive", "offline"] | None = None
    fail_after: int = Field(default=0, ge=0, description="orders done right before the failure applies")
    speed_m_s: float = Field(default=1.5, gt=0, le=10, description="driving speed (floor metres a second)")
    action_s: float = Field(default=2.0, ge=0, le=600, description="seconds a pick or a drop takes")


class DemoSettings(Strict):
    """What ``anshin shelf demo`` plays: the camera config, photos (relative to the media folder)."""

    camera_config: Path = Field(description="edge store config with the shelf camera, relative to this file")
    photos: list[Path] = Field(min_length=1, description="photos the simulated camera shows in turn")
    hold_s: float = Field(default=25.0, gt=0, le=3600)
    stock: dict[Identifier, float] = Field(default_factory=dict, description="back-room counts set at start")
    robot: DemoRobot = Field(default_factory=DemoRobot)


class ShelfConfig(Strict):
    store_id: Identifier
    floor: Path | None = Field(default=None, description="floor plan YAML (use case B), relative to this file")
    dock_node: Identifier = Field(default="b3", description="node where robots pick from the back room")
    dock_position: tuple[float, float] = Field(default=(3.0, 1.5), description="its position without a floor plan")
    manufacturer: Identifier = Field(default="anshin-sim", description="VDA 5050 manufacturer of the store's robots")
    robots: list[Identifier] = Field(default_factory=list, description="serial numbers of the store's robots")
    mqtt_prefix: str = Field(default="", max_length=64, description="topic prefix in front of uagv/v2/... (tests)")
    skus: dict[Identifier, SkuSettings] = Field(min_length=1)
    min_units: int = Field(default=2, ge=1, description="units missing before a task is made")
    min_battery: float = Field(default=25.0, ge=0, le=100, description="robots below this battery are not sent")
    order_accept_timeout_s: float = Field(default=15.0, gt=0, description="a robot must report the order this soon")
    order_progress_timeout_s: float = Field(default=60.0, gt=0, description="a running order must progress this often")
    escalate_after_s: float = Field(default=600.0, gt=0, description="an open task escalates after this long")
    sales_window_days: int = Field(default=28, ge=1, le=365, description="J's POS days averaged for the sales rate")
    demo: DemoSettings | None = Field(default=None, description="what `anshin shelf demo` plays (ignored otherwise)")


class ShelfConfigError(ValueError):
    """A shelf config that cannot be used, with the file and field."""


def load_config(path: Path) -> ShelfConfig:
    cfg = load_yaml_model(path, ShelfConfig, ShelfConfigError, what="a shelf config")
    if cfg.floor is not None and not cfg.floor.is_absolute():
        cfg = cfg.model_copy(update={"floor": (Path(path).parent / cfg.floor).resolve()})
    if cfg.demo is not None and not cfg.demo.camera_config.is_absolute():
        demo = cfg.demo.model_copy(update={"camera_config": (Path(path).parent / cfg.demo.camera_config).resolve()})
        cfg = cfg.model_copy(update={"demo": demo})
    unknown = [s for s in (cfg.demo.stock if cfg.demo else {}) if s not in cfg.skus]
    if unknown:
        raise ShelfConfigError(f"{path}: demo.stock: unknown SKU(s) {unknown}; skus: {sorted(cfg.skus)}")
    return cfg
