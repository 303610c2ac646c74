"""Use case I's configs refuse bad input with the file and the field: central's restock config and
the shelf camera's planogram (edge store config)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge.config import ConfigError, load_store_config
from services.central.usecases.shelf.config import ShelfConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_configs_load() -> None:
    cfg = load_config(ROOT / "config" / "shelf-demo-store.yaml")
    assert cfg.floor is not None and cfg.floor.is_file() and cfg.demo is not None and cfg.demo.camera_config.is_file()
    store = load_store_config(cfg.demo.camera_config)
    assert store.cameras["shelf-1"].analyzers[0].type == "shelf"


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c.update(min_units=0), "min_units: Input should be greater than or equal to 1"),
    (lambda c: c["skus"]["repellent-spray"].update(robots=True), "skus.repellent-spray.robots: Extra inputs are not permitted"),
    (lambda c: c["demo"]["stock"].update(tea=3), "demo.stock: unknown SKU(s) ['tea']"),
    (lambda c: c["demo"]["robot"].update(fail="explode"), "demo.robot.fail"),
])
def test_a_bad_restock_config_names_the_file_and_field(tmp_path: Path, change, message: str) -> None:  # noqa: ANN001
    data = yaml.safe_load((ROOT / "config" / "shelf-demo-store.yaml").read_text())
    change(data)
    path = tmp_path / "shelf.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ShelfConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(("segment", "message"), [
    ({"sku": "x", "facings": 4, "capacity": 2, "polygon": [[0, 0], [1, 0], [1, 1]]}, "capacity (2) must be at least the facings (4)"),
    ({"sku": "x", "facings": 4, "capacity": 8, "polygon": [[0, 0], [1.5, 0], [1, 1]]}, "less than or equal to 1"),
    ({"sku": "x", "facings": 4, "capacity": 8, "polygon": [[0, 0], [1, 0]]}, "at least 3 items"),
])
def test_a_bad_planogram_segment_is_refused_at_config_load(tmp_path: Path, segment: dict, message: str) -> None:
    data = yaml.safe_load((ROOT / "config" / "shelf-demo-camera.yaml").read_text())
    data["cameras"]["shelf-1"]["analyzers"][0]["segments"] = {"bad": segment}
    data["outbox"]["path"] = str(tmp_path / "outbox.sqlite")
    path = tmp_path / "camera.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_store_config(path)
    assert "segments" in str(info.value) and message in str(info.value)
