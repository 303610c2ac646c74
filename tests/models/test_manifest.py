"""The model registry: the manifest lists every model file, and verify catches missing or altered files."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from edge.models_registry import (
    MANIFEST_PATH,
    ManifestError,
    ModelIntegrityError,
    Status,
    load_manifest,
    require_verified,
    unlisted_files,
    verify,
)
from edge.paths import models_dir
from services.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def test_manifest_lists_every_model_file_and_all_match(manifest):
    assert unlisted_files(manifest, models_dir()) == []
    checks = verify(manifest, models_dir())
    assert [c.file for c in checks if not c.ok] == []
    assert len(checks) == len(list(models_dir().iterdir()))


@pytest.mark.parametrize("name", ["yolov8n_int8", "yolo11n_int8"])
def test_detector_models_have_cards_with_figures(manifest, name):
    entry = manifest.get(name)
    card = (MANIFEST_PATH.parent / entry.card).read_text()
    for heading in ("Source", "Licence", "Intended use", "Out-of-scope use", "Evaluation", "Known limits"):
        assert f"## {heading}" in card, f"{entry.card} lacks a '{heading}' section"
    assert "anshin eval count" in card and entry.sha256 in card


@pytest.fixture
def copied_models(tmp_path, manifest) -> Path:
    """A models dir of symlinks to the real files, except the ones a test alters."""
    for ref in (f for m in manifest.models for f in m.files):
        (tmp_path / ref.file).symlink_to(models_dir() / ref.file)
    return tmp_path


def corrupt_one_byte(path: Path) -> None:
    data = bytearray((path.resolve()).read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(data))


def test_missing_file_is_reported_with_its_public_source(copied_models, manifest):
    (copied_models / "yolo11n_int8.onnx").unlink()
    bad = [c for c in verify(manifest, copied_models) if not c.ok]
    assert [(c.file, c.status) for c in bad] == [("yolo11n_int8.onnx", Status.MISSING)]
    assert "achmadnr21/mwc-rpi5" in bad[0].describe()


@pytest.mark.parametrize(("alter", "status"), [
    pytest.param(corrupt_one_byte, Status.WRONG_HASH, id="one byte flipped"),
    pytest.param(lambda p: (p.unlink(), p.write_bytes(b"not a model")), Status.WRONG_SIZE, id="replaced by other bytes"),
])
def test_altered_file_is_reported(copied_models, manifest, alter, status):
    alter(copied_models / "yolov8n_int8.onnx")
    bad = [c for c in verify(manifest, copied_models) if not c.ok]
    assert [(c.file, c.status) for c in bad] == [("yolov8n_int8.onnx", status)]
    assert bad[0].actual_sha256 != bad[0].expected_sha256
    assert manifest.get("yolov8n_int8").sha256 in bad[0].describe()


def test_require_verified_raises_naming_the_file(copied_models, manifest):
    corrupt_one_byte(copied_models / "res10_deploy.prototxt")  # a companion file counts too
    assert require_verified("yolov8n_int8", copied_models, manifest).name == "yolov8n_int8"
    with pytest.raises(ModelIntegrityError, match="res10_deploy.prototxt.*wrong hash"):
        require_verified("res10_300x300_ssd_iter_140000", copied_models, manifest)


def test_cli_verify_exits_nonzero_and_prints_each_problem(copied_models):
    (copied_models / "yolo11n_int8.onnx").unlink()
    corrupt_one_byte(copied_models / "yolov8n_int8.onnx")
    result = runner.invoke(app, ["models", "verify", "--models-dir", str(copied_models)])
    assert result.exit_code == 1
    lines = {line.split()[1]: line for line in result.stdout.splitlines()[1:-1]}  # model, file, status per line
    assert "wrong hash" in lines["yolov8n_int8.onnx"]
    assert "missing" in lines["yolo11n_int8.onnx"] and "github achmadnr21/mwc-rpi5" in lines["yolo11n_int8.onnx"]
    assert lines["face_detection_yunet_2026may.onnx"].rstrip().endswith("ok")
    assert "2 problem(s)" in result.stdout


def test_cli_verify_passes_on_the_shared_models():
    result = runner.invoke(app, ["models", "verify", "--json"])
    assert result.exit_code == 0, result.stdout
    assert '"ok": true' in result.stdout


# A minimal valid manifest plus one change per row; each error must name the culprit.
@pytest.fixture(scope="module")
def raw_manifest():
    return yaml.safe_load(MANIFEST_PATH.read_text())


@pytest.mark.parametrize(("change", "words"), [
    pytest.param(lambda r: r["models"][0].update(version="000000000000"), ["models.0", "version"], id="version is not the hash prefix"),
    pytest.param(lambda r: r["models"][1].update(name=r["models"][0]["name"]), ["duplicate", "yolov8n_int8"], id="duplicate name"),
    pytest.param(lambda r: r["models"][0].update(sha256="xyz"), ["models.0.sha256"], id="malformed sha256"),
    pytest.param(lambda r: r["models"][0].pop("source"), ["models.0.source"], id="no source"),
    pytest.param(lambda r: r["models"][0].update(licence="MIT"), ["models.0.licence", "Extra"], id="misspelt key"),
    pytest.param(lambda r: r["models"][0].update(card="cards/nope.md"), ["cards/nope.md"], id="card file missing"),
    pytest.param(lambda r: r["models"][0].update(derived_from="ghost"), ["ghost"], id="derived from an unknown model"),
])
def test_invalid_manifest_is_rejected_naming_the_field(tmp_path, raw_manifest, change, words):
    raw = copy.deepcopy(raw_manifest)
    change(raw)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(raw))
    shutil.copytree(MANIFEST_PATH.parent / "cards", tmp_path / "cards")
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert all(w in str(err.value) for w in words), str(err.value)
