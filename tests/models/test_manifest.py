"""The model registry: the manifest lists every model file (published and committed), and verify catches missing or altered files."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from anshin.cli import app
from edge.models_registry import (
    MANIFEST_PATH,
    ManifestError,
    ModelIntegrityError,
    Status,
    load_manifest,
    require_verified,
    required_models,
    sha256_file,
    unlisted_files,
    verify,
)
from edge.paths import models_dir

runner = CliRunner()


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def test_manifest_lists_every_model_file_and_all_match(manifest):
    assert unlisted_files(manifest, models_dir()) == []
    checks = verify(manifest, models_dir())
    assert [c.file for c in checks if not c.ok] == []
    published = [c for c in checks if c.location == "models_dir"]
    assert len(published) == len(list(models_dir().iterdir()))


def test_committed_weights_are_listed_and_checked_in_the_repository(manifest):
    # Fit manifests (*.fit.json: hashes of the data a model was fitted on) sit beside their weights.
    committed = {p.relative_to(MANIFEST_PATH.parent).as_posix() for p in (MANIFEST_PATH.parent / "weights").iterdir()
                 if not p.name.endswith(".fit.json")}
    entries = {m.file: m for m in manifest.models if m.location == "repo"}
    assert set(entries) == committed  # every committed weight file is in the manifest, and only those
    head = entries["weights/anshin_mask_head_v1.npz"]
    assert head.name == "anshin_mask_head" and head.card == "cards/anshin_mask_head.md"
    assert "edge/usecases/entrance/masks/training" in head.source
    [check] = verify(manifest, models_dir(), ["anshin_mask_head"])
    assert check.ok and check.path == MANIFEST_PATH.parent / head.file
    assert check.actual_sha256 == sha256_file(MANIFEST_PATH.parent / head.file)


# Cards written to one outline: the figures come with the command that produced them.
CARDS = {
    "yolov8n_int8": ["anshin eval count", "anshin eval detect"],
    "yolo11n_int8": ["anshin eval count", "anshin eval detect"],
    "face_detection_yunet_2026may": ["anshin eval faces"],
    "aizoo_face_mask_detection": ["anshin eval mask", "edge.usecases.entrance.masks.training.scenes"],
    "aizoo_face_mask_detection_tflite": ["anshin eval mask"],
    "face_mask_detector_mobilenetv2": ["anshin eval mask", "edge.usecases.entrance.masks.training.scenes"],
    "derived_face_mask_mobilenetv2_dynint8": ["anshin eval mask"],
    "dlib_face_recognition_resnet_v1": ["anshin eval faces --pairs", "anshin eval checkout"],
}


@pytest.mark.parametrize(("name", "commands"), CARDS.items(), ids=list(CARDS))
def test_used_models_have_cards_with_figures_and_commands(manifest, name, commands):
    entry = manifest.get(name)
    assert entry.card is not None, f"{name} has no card"
    card = (MANIFEST_PATH.parent / entry.card).read_text()
    for heading in ("Source", "Licence", "Intended use", "Out-of-scope use", "Evaluation", "Known limits"):
        assert f"## {heading}" in card, f"{entry.card} lacks a '{heading}' section"
    assert entry.sha256 in card, f"{entry.card} does not pin {name}'s sha256"
    for command in commands:
        assert command in card, f"{entry.card} does not name the command {command!r}"


def test_cards_link_back_to_the_manifest_once_each(manifest):
    """Every model card belongs to one manifest entry (cards of methods, not files, live in cards/methods/)."""
    linked = {m.card for m in manifest.models if m.card}
    assert linked == {f"cards/{p.name}" for p in (MANIFEST_PATH.parent / "cards").glob("*.md")}


@pytest.fixture
def copied_models(tmp_path, manifest) -> Path:
    """A models dir of symlinks to the real published files, except the ones a test alters."""
    for ref in (f for m in manifest.models if m.location == "models_dir" for f in m.files):
        (tmp_path / ref.file).symlink_to(models_dir() / ref.file)
    return tmp_path


@pytest.fixture
def copied_repo(tmp_path) -> Path:
    """A copy of models/ (manifest, cards, committed weights) that a test may alter."""
    root = tmp_path / "repo_models"
    root.mkdir()
    shutil.copy(MANIFEST_PATH, root / MANIFEST_PATH.name)
    for folder in ("cards", "weights"):
        shutil.copytree(MANIFEST_PATH.parent / folder, root / folder)
    return root


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


def test_committed_weights_with_a_wrong_hash_are_reported(copied_repo, copied_models):
    corrupt_one_byte(copied_repo / "weights" / "anshin_mask_head_v1.npz")
    manifest = load_manifest(copied_repo / MANIFEST_PATH.name)
    bad = [c for c in verify(manifest, copied_models) if not c.ok]
    assert [(c.file, c.status, c.location) for c in bad] == [("weights/anshin_mask_head_v1.npz", Status.WRONG_HASH, "repo")]
    assert bad[0].path == copied_repo / "weights" / "anshin_mask_head_v1.npz"
    assert "restore it with git" in bad[0].describe() and bad[0].expected_sha256 in bad[0].describe()
    # the real checkout is untouched, and a published-file check does not look in the repository
    assert verify(load_manifest(), copied_models, ["anshin_mask_head"])[0].ok


def test_missing_committed_weights_name_the_training_code(copied_repo, copied_models):
    (copied_repo / "weights" / "anshin_mask_head_v1.npz").unlink()
    manifest = load_manifest(copied_repo / MANIFEST_PATH.name)
    [check] = [c for c in verify(manifest, copied_models) if not c.ok]
    assert check.status is Status.MISSING
    assert "committed to this repository" in check.describe() and "edge/usecases/entrance/masks/training" in check.describe()
    result = runner.invoke(app, ["models", "verify", "--models-dir", str(copied_models), "--manifest", str(copied_repo / MANIFEST_PATH.name)])
    assert result.exit_code == 1 and "1 problem(s)" in result.stdout


def test_require_verified_checks_the_models_it_requires(copied_models, manifest):
    assert required_models(manifest, "anshin_mask_head") == ["anshin_mask_head", "derived_face_mask_mobilenetv2_dynint8"]
    assert require_verified("anshin_mask_head", copied_models, manifest).version == manifest.get("anshin_mask_head").version
    corrupt_one_byte(copied_models / "derived_face_mask_mobilenetv2_dynint8.tflite")  # the head's backbone
    with pytest.raises(ModelIntegrityError, match="derived_face_mask_mobilenetv2_dynint8.tflite.*wrong hash"):
        require_verified("anshin_mask_head", copied_models, manifest)


def test_cli_verify_exits_nonzero_and_prints_each_problem(copied_models):
    (copied_models / "yolo11n_int8.onnx").unlink()
    corrupt_one_byte(copied_models / "yolov8n_int8.onnx")
    result = runner.invoke(app, ["models", "verify", "--models-dir", str(copied_models)])
    assert result.exit_code == 1
    lines = {line.split()[1]: line for line in result.stdout.splitlines()[1:-1]}  # model, file, status per line
    assert "wrong hash" in lines["yolov8n_int8.onnx"]
    assert "missing" in lines["yolo11n_int8.onnx"] and "github achmadnr21/mwc-rpi5" in lines["yolo11n_int8.onnx"]
    assert lines["face_detection_yunet_2026may.onnx"].rstrip().endswith("ok")
    assert lines["weights/anshin_mask_head_v1.npz"].rstrip().endswith("ok")  # committed weights are checked too
    assert "2 problem(s)" in result.stdout


def test_cli_verify_passes_on_the_shared_models():
    result = runner.invoke(app, ["models", "verify", "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {f["location"] for f in report["files"]} == {"models_dir", "repo", "package"}


# A minimal valid manifest plus one change per row; each error must name the culprit.
@pytest.fixture(scope="module")
def raw_manifest():
    return yaml.safe_load(MANIFEST_PATH.read_text())


def _repo_entry(raw: dict) -> dict:
    return next(m for m in raw["models"] if m.get("location") == "repo")


@pytest.mark.parametrize(("change", "words"), [
    pytest.param(lambda r: r["models"][0].update(version="000000000000"), ["models.0", "version"], id="version is not the hash prefix"),
    pytest.param(lambda r: r["models"][1].update(name=r["models"][0]["name"]), ["duplicate", "yolov8n_int8"], id="duplicate name"),
    pytest.param(lambda r: r["models"][0].update(sha256="xyz"), ["models.0.sha256"], id="malformed sha256"),
    pytest.param(lambda r: r["models"][0].pop("source"), ["models.0.source"], id="no source"),
    pytest.param(lambda r: r["models"][0].update(licence="MIT"), ["models.0.licence", "Extra"], id="misspelt key"),
    pytest.param(lambda r: r["models"][0].update(card="cards/nope.md"), ["cards/nope.md"], id="card file missing"),
    pytest.param(lambda r: r["models"][0].update(derived_from="ghost"), ["ghost"], id="derived from an unknown model"),
    pytest.param(lambda r: r["models"][0].update(requires=["ghost"]), ["yolov8n_int8", "requires", "ghost"], id="requires an unknown model"),
    pytest.param(lambda r: r["models"][0].update(location="cloud"), ["models.0.location"], id="unknown location"),
    pytest.param(lambda r: r["models"][0].update(file="sub/yolov8n_int8.onnx"), ["bare file name"], id="published file with a folder"),
    pytest.param(lambda r: _repo_entry(r).update(file="../../etc/passwd"), ["anshin_mask_head", "inside models/"], id="committed file outside models/"),
    pytest.param(lambda r: r.update(schema_version=1), ["schema_version"], id="old schema version"),
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
