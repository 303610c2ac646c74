"""Detector training tools: the float model recovered from a published int8 export, and fine-tuning that keeps it.

Real files: ``yolo11n_int8.onnx`` and frames of the PETS video. The second test guards the trap that
once made a "fine-tune" train from scratch: ultralytics' ``pretrained=False`` drops the checkpoint's
weights, so one epoch at learning rate 0 must leave the detector's output as it was.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import torch

from edge.detectors.convert import letterbox
from edge.detectors.training import camera_finetune, from_int8
from edge.eval.fit_manifest import FitManifest
from edge.paths import media_dir, models_dir

SOURCE = models_dir() / "yolo11n_int8.onnx"
VIDEO = media_dir() / "pets2009_vtest_480x360.mp4"
GT = media_dir() / "pets2009_gt" / "gt_480x360_frames0001-0400.txt"


def frames(indices: list[int]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(VIDEO))
    out, wanted = [], set(indices)
    for i in range(1, max(indices) + 1):
        ok, image = capture.read()
        assert ok, f"{VIDEO} ended at frame {i}"
        if i in wanted:
            out.append(image)
    return out


def person_scores(model: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    blob, _ = letterbox(image, 320)
    with torch.no_grad():
        return model.float().eval()(torch.from_numpy(blob))[0][0, 4].numpy()


def int8_person_scores(image: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(SOURCE), providers=["CPUExecutionProvider"])
    blob, _ = letterbox(image, 320)
    return session.run(None, {session.get_inputs()[0].name: blob})[0][0, 4]


@pytest.fixture(scope="module")
def recovered() -> torch.nn.Module:
    if not SOURCE.is_file() or not VIDEO.is_file():
        pytest.fail(f"real model and video needed: {SOURCE}, {VIDEO}")
    return from_int8.build(SOURCE, "yolo11n.yaml", 80, frames([10, 60, 110, 160]), 320)


def test_recovered_float_model_scores_like_the_int8_export(recovered: torch.nn.Module) -> None:
    image = frames([250])[0]  # not among the BatchNorm sample frames
    ours, theirs = person_scores(recovered, image), int8_person_scores(image)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99
    assert abs(int((ours > 0.25).sum()) - int((theirs > 0.25).sum())) <= 3
    assert (theirs > 0.25).sum() >= 10  # people are there to find


def test_recovery_refuses_another_architecture() -> None:
    with pytest.raises(ValueError, match="not a yolov8n.yaml export"):
        from_int8.build(SOURCE, "yolov8n.yaml", 80, frames([10]), 320)


def test_one_epoch_at_learning_rate_zero_keeps_the_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    out = tmp_path / "out" / "cam"
    monkeypatch.setattr("sys.argv", ["finetune", "--video", str(VIDEO), "--gt", str(GT), "--frames", "1-8",
                                     "--epochs", "1", "--batch", "4", "--lr0", "0", "--work", str(tmp_path / "work"),
                                     "--out", str(out)])
    camera_finetune.main()
    image = frames([250])[0]
    before = int8_person_scores(image)
    session = ort.InferenceSession(str(out.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    blob, _ = letterbox(image, 320)
    after = session.run(None, {session.get_inputs()[0].name: blob})[0][0, 4]
    assert np.corrcoef(before, after)[0, 1] > 0.98, "training dropped the recovered weights"
    manifest = FitManifest.load(out.with_suffix(".fit.json"))
    video_sha = camera_finetune.sha256_file(VIDEO)
    assert set(manifest.sha256) == {camera_finetune.frame_digest(video_sha, f) for f in range(1, 9)}


def test_mot_rows_become_clipped_yolo_labels(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("1,3,470.0,10.0,20.0,40.0,1,0,0,0\n1,4,10,10,0.5,40,0,0,0,0\n2,3,1,1,2,2,1,0,0,0\n")
    boxes = camera_finetune.read_mot(gt)
    assert sorted(boxes) == [1, 2]
    label = camera_finetune.yolo_label(boxes[1], 480, 360)
    assert label.splitlines() == ["0 0.989583 0.083333 0.020833 0.111111"]  # clipped at x=480; the 0.5 px box dropped
    gt.write_text("1,3,x,10,20,40,1,0,0,0\n")
    with pytest.raises(ValueError, match=r"gt.txt:1: not a MOTChallenge row"):
        camera_finetune.read_mot(gt)
