"""Detector backends on real images: the onnx and ultralytics paths agree and find the people."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig, UltralyticsDetectorConfig
from edge.models_registry import sha256_file
from edge.paths import PROJECT_ROOT, media_dir, models_dir
from services.shared.boxes import box_iou, nms


def image(name: str) -> np.ndarray:
    frame = cv2.imread(str(media_dir() / name))
    assert frame is not None, f"cannot read {name} from {media_dir()}"
    return frame


@pytest.fixture(scope="module")
def onnx_v8():
    return create_detector(OnnxDetectorConfig())


@pytest.fixture(scope="module")
def ultralytics_v8():
    return create_detector(UltralyticsDetectorConfig())


@pytest.mark.parametrize(("model", "name", "persons"), [
    pytest.param("yolov8n_int8.onnx", "bus.jpg", 4, id="yolov8n bus: 4 people"),
    pytest.param("yolov8n_int8.onnx", "zidane.jpg", 2, id="yolov8n zidane: 2 people"),
    pytest.param("yolo11n_int8.onnx", "bus.jpg", 4, id="yolo11n at its own 320 px: bus 4 people"),
    pytest.param("yolo11n_int8.onnx", "zidane.jpg", 2, id="yolo11n at its own 320 px: zidane 2 people"),
])
def test_onnx_detector_counts_people(model, name, persons):
    detector = create_detector(OnnxDetectorConfig(model=model))
    frame = image(name)
    found = detector.detect(frame)
    assert len(found) == persons
    assert (found.class_id == 0).all()
    h, w = frame.shape[:2]
    assert (found.xyxy[:, [0, 2]] >= 0).all() and (found.xyxy[:, [0, 2]] <= w).all()
    assert (found.xyxy[:, [1, 3]] >= 0).all() and (found.xyxy[:, [1, 3]] <= h).all()
    assert (found.xyxy[:, 2:] > found.xyxy[:, :2]).all()


@pytest.mark.parametrize("name", ["bus.jpg", "zidane.jpg"])
def test_onnx_and_ultralytics_find_the_same_people(onnx_v8, ultralytics_v8, name):
    frame = image(name)
    ours, theirs = onnx_v8.detect(frame), ultralytics_v8.detect(frame)
    assert len(ours) == len(theirs) > 0
    iou = box_iou(ours.xyxy, theirs.xyxy)
    match = iou.argmax(axis=1)
    assert sorted(match.tolist()) == list(range(len(theirs))), "each box matches a different box"
    assert (iou.max(axis=1) >= 0.9).all(), iou.max(axis=1)
    np.testing.assert_allclose(ours.score, theirs.score[match], atol=0.02)


def test_all_classes_when_asked(onnx_v8):
    detector = create_detector(OnnxDetectorConfig(classes=list(range(80))))
    names = {detector.class_names[int(c)] for c in detector.detect(image("bus.jpg")).class_id}
    assert {"person", "bus"} <= names


def test_detector_reports_model_identity(onnx_v8, ultralytics_v8):
    path = models_dir() / "yolov8n_int8.onnx"
    assert onnx_v8.model_name == ultralytics_v8.model_name == "yolov8n_int8"
    assert onnx_v8.model_version == ultralytics_v8.model_version == sha256_file(path)[:12]
    assert onnx_v8.class_names[0] == "person" and len(onnx_v8.class_names) == 80


@pytest.mark.parametrize("config", [
    pytest.param(OnnxDetectorConfig(), id="onnx"),
    pytest.param(UltralyticsDetectorConfig(), id="ultralytics"),
])
def test_missing_model_file_names_the_file_and_the_env_var(config, tmp_path, monkeypatch):
    monkeypatch.setenv("ANSHIN_MODELS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        create_detector(config)
    assert "yolov8n_int8.onnx" in str(err.value)
    assert "ANSHIN_MODELS_DIR" in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_models_dir_env_var_is_used(tmp_path, monkeypatch):
    (tmp_path / "yolov8n_int8.onnx").symlink_to(models_dir() / "yolov8n_int8.onnx")
    monkeypatch.setenv("ANSHIN_MODELS_DIR", str(tmp_path))
    assert len(create_detector(OnnxDetectorConfig()).detect(image("zidane.jpg"))) == 2


@pytest.mark.parametrize(("config", "error", "words"), [
    pytest.param(SimpleNamespace(type="tensorrt", tiles=None), ValueError, ["tensorrt", "onnx", "ultralytics"], id="unknown type"),
    pytest.param(OnnxDetectorConfig(imgsz=320), ValueError, ["imgsz=320", "yolov8n_int8.onnx", "640"], id="imgsz vs fixed input"),
    pytest.param(UltralyticsDetectorConfig(model="yolo11n_int8.onnx", imgsz=640), ValueError, ["imgsz=640", "320"], id="ultralytics imgsz vs fixed input"),
    pytest.param(OnnxDetectorConfig(classes=[80]), ValueError, ["[80]", "yolov8n_int8.onnx"], id="class not in model"),
])
def test_bad_detector_configs_fail_with_a_named_cause(config, error, words):
    with pytest.raises(error) as err:
        create_detector(config)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.parametrize("delta", [
    pytest.param({"confidence": 0.3}, id="misspelt key"),
    pytest.param({"conf": 1.5}, id="conf above 1"),
    pytest.param({"type": "tflite"}, id="wrong type literal"),
])
def test_detector_config_rejects_bad_values(delta):
    with pytest.raises(ValidationError):
        OnnxDetectorConfig(**delta)


def test_onnx_path_never_imports_torch():
    code = (
        "import sys, cv2\n"
        "from edge.detectors import create_detector\n"
        "from edge.detectors.config import OnnxDetectorConfig\n"
        "from edge.paths import media_dir\n"
        "d = create_detector(OnnxDetectorConfig())\n"
        "n = len(d.detect(cv2.imread(str(media_dir() / 'zidane.jpg'))))\n"
        "print(n, 'torch' in sys.modules, 'ultralytics' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False", "False"]


@pytest.mark.parametrize(("boxes", "scores", "iou", "kept"), [
    pytest.param([], [], 0.5, [], id="no boxes"),
    pytest.param([[0, 0, 10, 10], [1, 0, 11, 10]], [0.8, 0.9], 0.5, [1], id="overlap: the better one stays"),
    pytest.param([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.5, [0, 1], id="IoU 1/3 below threshold: both stay"),
    pytest.param([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.3, [0], id="IoU 1/3 above 0.3: one stays"),
])
def test_nms(boxes, scores, iou, kept):
    got = nms(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32), iou)
    assert got.tolist() == kept


def test_a_model_path_with_a_folder_is_found_in_the_repository_models_folder(tmp_path, monkeypatch):
    """Weights we train live in models/weights/ (committed); a config names them from there, and
    that works from any working directory; a published model is named by file alone."""
    from edge.paths import PROJECT_ROOT, resolve_model

    monkeypatch.chdir(tmp_path)
    assert resolve_model("weights/pets_person_v2.onnx") == PROJECT_ROOT / "models" / "weights" / "pets_person_v2.onnx"
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "pets_person_v2.onnx").write_bytes(b"local copy")
    assert resolve_model("weights/pets_person_v2.onnx") == Path("weights/pets_person_v2.onnx")  # the working dir first
    with pytest.raises(FileNotFoundError, match="not found"):
        resolve_model("weights/no_such_model.onnx")
