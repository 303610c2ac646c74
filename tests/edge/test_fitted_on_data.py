"""Honest evals: `anshin eval` says when it runs on data a model, head or calibration was fitted on.

The check is by content hash against the fit manifests stored with the artifacts; these tests use
the committed manifests and the real files they describe.
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from anshin.cli import app
from edge.eval import fit_manifest
from edge.eval.fit_manifest import FitManifest, check, check_files, digest_of, existing, file_digests, manifest_path
from edge.eval.mask import fit_manifests
from edge.paths import PROJECT_ROOT, media_dir
from edge.usecases.entrance.masks.linear import DEFAULT_HEAD, LinearHead
from edge.usecases.entrance.masks.training.dataset import list_items
from edge.usecases.entrance.masks.training.train import write_fit_manifest

DEV = media_dir() / "facemask_dev"
MALL = media_dir() / "mall_dev"
CALIBRATIONS = PROJECT_ROOT / "models" / "calibration"
runner = CliRunner()


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_facemask_dev_image_is_in_the_mask_heads_fit():
    """The real dataset (all 3,000 files, hashed here) against the committed manifests."""
    files = [item.path for item in list_items(DEV)]
    report = check_files(files, existing(fit_manifests("linear")))
    assert report["fitted_on_this_data"] is True and report["fitted_overlap"] == 1.0
    head = next(a for a in report["fitted_artifacts"] if a["artifact"] == "models/weights/anshin_mask_head_v1.npz")
    assert head["files_in_fit"] == len(files) == LinearHead.load(DEFAULT_HEAD).meta["n_images"]


def test_the_heads_manifest_is_exactly_its_training_folder():
    manifest = FitManifest.load(manifest_path(DEFAULT_HEAD))
    assert manifest.role == "trained" and manifest.sha256 == sorted(set(file_digests(i.path for i in list_items(DEV))))


def _mask_folder(root, with_mask, without_mask):  # type: ignore[no-untyped-def]
    for name, files in (("with_mask", with_mask), ("without_mask", without_mask)):
        (root / name).mkdir(parents=True)
        for i, src in enumerate(files):
            shutil.copy(src, root / name / f"renamed_{i}{src.suffix}")  # a new name does not hide a copy
    return root


def test_eval_mask_on_copies_of_training_images_says_so_and_warns(tmp_path):
    items = list_items(DEV)
    masked = [i.path for i in items if i.label == 1][:2]
    unmasked = [i.path for i in items if i.label == 0][:2]
    folder = _mask_folder(tmp_path / "subset", masked, unmasked)
    result = runner.invoke(app, ["eval", "mask", "--dataset", str(folder), "--json"])
    out = _json(result)
    assert out["fitted_on_this_data"] is True and out["fitted_overlap"] == 1.0 and out["n"] == 4
    assert "models/weights/anshin_mask_head_v1.npz" in {a["artifact"] for a in out["fitted_artifacts"]}
    assert "memorisation" in result.stderr and "anshin_mask_head_v1.npz" in result.stderr


def _unseen_faces(tmp_path):  # type: ignore[no-untyped-def]
    """Masked and unmasked face photos that are not in facemask_dev (re-encoded crops of scene photos)."""
    scenes = media_dir() / "facemask" / "scenes"
    pic1 = cv2.imread(str(scenes / "chandrikadeb7_pic1.jpeg"))
    pic3 = cv2.imread(str(scenes / "chandrikadeb7_pic3.jpg"))
    crops = {"masked.png": pic1[:, 120:400], "unmasked.png": pic3[:, 120:330]}
    for name, image in crops.items():
        assert cv2.imwrite(str(tmp_path / name), image)
    return tmp_path / "masked.png", tmp_path / "unmasked.png"


def test_eval_mask_on_images_outside_the_fit_reports_false(tmp_path):
    masked, unmasked = _unseen_faces(tmp_path)
    folder = _mask_folder(tmp_path / "unseen", [masked, media_dir() / "aizoo_demo2.jpg"], [unmasked])
    result = runner.invoke(app, ["eval", "mask", "--dataset", str(folder), "--json"])
    out = _json(result)
    assert out["fitted_on_this_data"] is False and out["fitted_overlap"] == 0.0 and out["fitted_artifacts"] == []
    assert set(out["fit_manifests_checked"]) == {"models/weights/anshin_mask_head_v1.npz", "face_mask_detector_mobilenetv2"}
    assert "memorisation" not in result.stderr


def test_a_mixed_folder_reports_the_fraction_seen(tmp_path):
    masked, unmasked = _unseen_faces(tmp_path)
    seen = [i.path for i in list_items(DEV)[:2]]
    files = [masked, unmasked, *seen]
    report = check_files(files, existing(fit_manifests("linear")))
    assert report["fitted_on_this_data"] is True and report["fitted_overlap"] == 0.5


def test_count_with_the_committed_calibration_on_its_own_frames_says_so():
    calibration = CALIBRATIONS / "mall_dev_yolov8n_int8_640.json"
    result = runner.invoke(app, ["eval", "count", "--images", str(MALL), "--limit", "2", "--calibration", str(calibration), "--json"])
    out = _json(result)
    assert out["fitted_on_this_data"] is True and out["fitted_overlap"] == 1.0
    assert out["fitted_artifacts"][0]["artifact"] == "models/calibration/mall_dev_yolov8n_int8_640.json"
    assert "memorisation" in result.stderr


def test_the_calibration_manifests_are_the_400_mall_dev_frames():
    frames = sorted(json.loads((MALL / "truth.json").read_text()))
    digests = sorted(set(file_digests(MALL / f for f in frames)))
    for calibration in ("mall_dev_yolov8n_int8_640", "mall_dev_yolov8n_int8_tiles2x2"):
        manifest = FitManifest.load(CALIBRATIONS / f"{calibration}.fit.json")
        assert manifest.role == "fitted" and manifest.sha256 == digests and len(frames) == 400


def test_training_writes_the_heads_manifest(tmp_path):
    z = {"sha256": np.array([digest_of(b"one"), digest_of(b"two"), digest_of(b"one")])}
    path = write_fit_manifest(tmp_path / "head_v9.npz", z, tmp_path / "feat.npz", ["--features", "feat.npz"])
    assert path == tmp_path / "head_v9.fit.json"
    manifest = FitManifest.load(path)
    assert manifest.sha256 == sorted({digest_of(b"one"), digest_of(b"two")}) and "--features feat.npz" in manifest.command
    assert check([digest_of(b"two"), digest_of(b"three")], [manifest])["fitted_overlap"] == 0.5


def test_a_broken_manifest_is_named(tmp_path):
    bad = tmp_path / "x.fit.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="x.fit.json"):
        FitManifest.load(bad)
    assert fit_manifest.existing([tmp_path / "absent.fit.json"]) == []


def test_eval_detect_flags_the_coco_training_photos_for_coco_trained_detectors():
    """yolov8n was trained on COCO train2017, which holds all eight coco8-pose photos; bus and zidane are not COCO."""
    result = runner.invoke(app, ["eval", "detect", "--json"])
    out = _json(result)
    assert out["fitted_on_this_data"] is True and out["fitted_overlap"] == 0.8  # 8 of the 10 photos
    assert out["fitted_artifacts"][0]["artifact"] == "yolov8n_int8" and out["fitted_artifacts"][0]["files_in_fit"] == 8
    coco = sorted(file_digests((media_dir() / "coco8-pose" / "images").glob("*/*.jpg")))
    assert FitManifest.load(fit_manifest.card_manifest("yolov8n_int8")).sha256 == coco
    assert check(file_digests([media_dir() / "bus.jpg", media_dir() / "zidane.jpg"]), existing([fit_manifest.card_manifest("yolov8n_int8")]))["fitted_on_this_data"] is False
