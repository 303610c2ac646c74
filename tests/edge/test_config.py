"""Store config: every problem listed at once, with its YAML line and dotted field path."""

from __future__ import annotations

import textwrap
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.config import AnalyzerConfig, ConfigError, MissingApiKeyError, StoreConfig, load_store_config
from edge.paths import PROJECT_ROOT

DEMO = PROJECT_ROOT / "config" / "demo-store.yaml"
# Every registered analyzer config type, in union order, as the error message quotes them.
_ANALYZERS = typing.get_args(AnalyzerConfig)[0]  # Union[...] (or the single class while there is only one)
ANALYZER_TYPES = ", ".join(
    repr(typing.get_args(m.model_fields["type"].annotation)[0]) for m in (typing.get_args(_ANALYZERS) or (_ANALYZERS,))
)

MINIMAL = """\
store_id: s1
cameras:
  door:
    source: {video}
    zones:
      queue:
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
    analyzers:
      - type: occupancy
        zones:
          queue: {{capacity: 3}}
"""


def write(tmp_path: Path, text: str, pets_video: Path) -> Path:
    path = tmp_path / "store.yaml"
    path.write_text(textwrap.dedent(text).format(video=pets_video))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_store_config(path)
    return [p.render() for p in info.value.problems]


def test_minimal_config_loads_with_defaults(tmp_path, pets_video):
    store = load_store_config(write(tmp_path, MINIMAL, pets_video))
    cam = store.cameras["door"]
    assert (store.privacy_profile, cam.detector.type, cam.detect_every, cam.source_kind) == ("minimal", "onnx", 1, "file")
    assert cam.zones["queue"].kind == "area" and cam.analyzers[0].min_frames == 3
    assert cam.analyzers[0].zones["queue"].capacity == 3
    assert store.outbox.path == tmp_path / "outbox.sqlite"  # relative to the YAML file
    assert store.path == (tmp_path / "store.yaml").resolve()


def test_demo_store_config_is_valid_and_resolves_the_video_next_to_the_project():
    store = load_store_config(DEMO)
    cam = store.camera("pets-aisle")
    assert Path(cam.source).is_file() and Path(cam.source).name == "pets2009_vtest_480x360.mp4"
    assert cam.loop and cam.detector.model == "weights/pets_person_v2.onnx" and cam.detect_every == 1  # issue 11: every frame, small model
    assert set(cam.zones) == {"plaza", "crossing", "west-path"}


# (replace this, with this) in MINIMAL → the one problem expected, exactly as printed.
@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("capacity: 3", "capacity: 0", "line 11 cameras.door.analyzers[0].zones.queue.capacity: input should be greater than 0 (got 0)",
                 id="capacity must be positive"),
    pytest.param("[0.9, 0.1], [0.9, 0.9]", "[1.9, 0.1], [0.9, 0.9]",
                 "line 7 cameras.door.zones.queue.polygon[1][0]: input should be less than or equal to 1 (got 1.9)",
                 id="vertices are normalised"),
    pytest.param("[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]", "[[0.1, 0.1], [0.9, 0.1]]",
                 "line 7 cameras.door.zones.queue.polygon: list should have at least 3 items after validation, not 2 (got [[0.1, 0.1], [0.9, 0.1]])",
                 id="three vertices at least"),
    pytest.param("[0.9, 0.1], [0.9, 0.9]", "[0.5, 0.5], [0.9, 0.9]",
                 "line 7 cameras.door.zones.queue.polygon: polygon has no area (vertices on one line, or repeated) (got [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]])",
                 id="degenerate polygon"),
    pytest.param("store_id: s1", "store_id: s 1",
                 "line 1 store_id: must be 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit (got 's 1')",
                 id="store id"),
    pytest.param("      - type: occupancy", "      - type: occupancy\n        min_frame: 2",
                 "line 10 cameras.door.analyzers[0].min_frame: unknown field; did you mean 'min_frames'? allowed: type, zones, interval_s, hysteresis, min_frames, count",
                 id="misspelt analyzer option"),
    pytest.param("      - type: occupancy", "      - type: crowding",
                 "line 9 cameras.door.analyzers[0].type: unknown type; expected one of: {analyzer_types} (got 'crowding')",
                 id="unknown analyzer type"),
    pytest.param("          queue: {{capacity", "          queu: {{capacity",
                 "line 11 cameras.door.analyzers[0].zones.queu: unknown zone; camera 'door' defines ['queue']; did you mean 'queue'? (got 'queu')",
                 id="analyzer zone must exist"),
    pytest.param("      - type: occupancy", "      - type: occupancy\n        hysteresis: 4",
                 "line 10 cameras.door.analyzers[0].hysteresis: larger than the capacity of zone 'queue' (3); the alert could never re-arm (got 4)",
                 id="hysteresis within capacity"),
    pytest.param("    source: {video}", "    source: clips/none.mp4",
                 "line 4 cameras.door.source: video file {tmp}/clips/none.mp4 does not exist",
                 id="missing video named with its resolved path"),
    pytest.param("    source: {video}", "    source: 0\n    loop: true",
                 "line 5 cameras.door.loop: loop applies to video files only; this source is a usb camera (got True)",
                 id="loop on a live camera"),
    pytest.param("    source: {video}\n", "    source: {video}\n    detector: {{type: onnx, imgsz: 0}}\n",
                 "line 5 cameras.door.detector.imgsz: input should be greater than 0 (got 0)",
                 id="detector option (discriminated union)"),
    pytest.param("    source: {video}\n", "    source: {video}\n    detector: {{model: yolov8n_int8.onnx}}\n",
                 "line 5 cameras.door.detector.type: 'type' is required; one of: 'onnx', 'ultralytics'",
                 id="detector type required"),
    pytest.param("    source: {video}\n", "    source: {video}\n    detector: {{type: onnx, model: nowhere.onnx}}\n",
                 "line 5 cameras.door.detector.model: model file {models}/nowhere.onnx not found",
                 id="model file must exist"),
    pytest.param("    source: {video}\n", "    source: {video}\n    detector: {{type: onnx, near: {{model: far.onnx}}}}\n",
                 "line 5 cameras.door.detector.near.model: model file {models}/far.onnx not found",
                 id="near-field model file must exist"),
    pytest.param("    source: {video}\n", "    source: {video}\n    detector: {{type: onnx, near: {{min_height_px: 120}}}}\n",
                 "line 5 cameras.door.detector.near: min_height_px (120.0) is above main_max_height_px (90.0): "
                 "people between the two would be found by neither model (got {{'min_height_px': 120}})",
                 id="near-field heights must overlap"),
    pytest.param("    source: {video}\n", "    source: {video}\n    tracker: {{track_buffer: 0}}\n",
                 "line 5 cameras.door.tracker.track_buffer: input should be greater than or equal to 1 (got 0)",
                 id="tracker option"),
    pytest.param("store_id: s1", "store_id: s1\ncentral:\n  api_key_env: my-key",
                 "line 3 central.api_key_env: must be an environment variable name such as ANSHIN_EDGE_KEY (the secret itself stays out of the file) (got 'my-key')",
                 id="api key by variable name only"),
    pytest.param("    zones:\n      queue:", "    zones:\n      queue: {{polygon: [[0, 0], [1, 0], [1, 1]]}}\n      queue:",
                 "line 7 cameras.door.zones.queue: duplicate key (first defined on line 6); only the last one would count",
                 id="duplicate zone name"),
    pytest.param("store_id: s1\n", "",
                 "line 1 store_id: required field is missing",
                 id="required field"),
])
def test_each_problem_names_line_path_and_value(tmp_path, pets_video, old, new, expected):
    from edge.paths import models_dir

    assert old in MINIMAL, "the table row must change something"
    path = write(tmp_path, MINIMAL.replace(old, new), pets_video)
    assert problems(path) == [expected.format(tmp=tmp_path, models=models_dir(), analyzer_types=ANALYZER_TYPES)]


def test_every_problem_is_listed_in_one_pass(tmp_path, pets_video):
    text = """\
    store_id: s1
    privacy_profile: open
    central:
      url: ftp://central
      batch_size: 501
    cameras:
      door:
        source: {video}
        detect_every: 0
        zones:
          queue: {{polygon: [[0, 0], [1, 0], [1, 1]]}}
        analyzers:
          - {{type: occupancy, zones: {{till: {{capacity: 2}}}}}}
      till:
        source: {video}
        analyzers:
          - {{type: occupancy, zones: {{door: {{capacity: 1}}}}}}
    """
    found = problems(write(tmp_path, text, pets_video))
    assert [p.split(":")[0] for p in found] == [
        "line 2 privacy_profile",
        "line 4 central.url",
        "line 5 central.batch_size",
        "line 9 cameras.door.detect_every",
        "line 17 cameras.till.analyzers[0].zones.door",  # cross-field check on the camera that validated
    ]
    assert "unknown zone; camera 'till' defines []" in found[-1]


def test_yaml_syntax_error_names_the_line(tmp_path, pets_video):
    path = write(tmp_path, MINIMAL.replace("capacity: 3}}", "capacity: [3}}"), pets_video)
    [only] = problems(path)
    assert only.startswith("line 11 (top level): not valid YAML")


def test_missing_file_and_non_mapping(tmp_path):
    assert problems(tmp_path / "nope.yaml") == [f"(top level): config file {tmp_path / 'nope.yaml'} does not exist"]
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    assert problems(tmp_path / "list.yaml") == ["line 1 (top level): must be a YAML mapping with store_id, cameras, ... (got ['a', 'b'])"]


def test_config_error_message_lists_all_problems(tmp_path, pets_video):
    path = write(tmp_path, MINIMAL.replace("capacity: 3", "capacity: -1").replace("store_id: s1", "store_id: ''"), pets_video)
    with pytest.raises(ConfigError) as info:
        load_store_config(path)
    text = str(info.value)
    assert text.splitlines()[0] == f"{path}: 2 problems"
    assert "line 1 store_id" in text and "line 11 cameras.door.analyzers[0].zones.queue.capacity" in text


def test_api_key_comes_from_the_named_environment_variable(monkeypatch):
    store = StoreConfig.model_validate({"store_id": "s1", "central": {"api_key_env": "TEST_EDGE_KEY"}, "cameras": {"c": {"source": 0}}})
    monkeypatch.delenv("TEST_EDGE_KEY", raising=False)
    with pytest.raises(MissingApiKeyError, match="TEST_EDGE_KEY"):
        store.central.api_key()
    monkeypatch.setenv("TEST_EDGE_KEY", "ank_secret")
    assert store.central.api_key() == "ank_secret"


def test_cli_config_check(tmp_path, pets_video):
    from anshin.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["config", "check", str(DEMO)])
    assert ok.exit_code == 0, ok.output
    assert "OK: store 'demo-store'" in ok.output and "5 zone(s)" in ok.output

    bad = write(tmp_path, MINIMAL.replace("capacity: 3", "capacity: 0").replace("store_id: s1", "store_id: ''"), pets_video)
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{bad}: line 1 store_id:")
    assert lines[1].startswith(f"{bad}: line 11 cameras.door.analyzers[0].zones.queue.capacity:")
    assert lines[-1] == f"{bad}: 2 problems"
