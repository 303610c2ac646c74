"""The EXPERIMENTAL pose cue of use case H: YOLO11n-pose (TFLite int8) keypoints on real pictures,
the hand-at-hip cue on a real shop clip, and the pose rule's window, zone and per-track logic."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.paths import media_dir, models_dir
from edge.usecases.behaviour.config import BehaviourAnalyzerConfig, PoseCueRule
from edge.usecases.behaviour.pose import MODEL_FILE, PoseModel, hand_at_hip
from edge.usecases.behaviour.rules import RuleEngine
from services.shared.boxes import box_iou


@pytest.fixture(scope="module")
def model() -> PoseModel:
    if not (models_dir() / MODEL_FILE).is_file():
        pytest.skip(f"pose model not found in {models_dir()}")
    return PoseModel()


def test_keypoints_land_on_the_people_of_coco8_pose(model: PoseModel) -> None:
    """COCO photos are the model's training data: this checks the pipeline (letterbox, int8, decoding),
    not accuracy on unseen people."""
    errors = []
    for image_path in sorted((media_dir() / "coco8-pose" / "images").glob("*/*.jpg")):
        image = cv2.imread(str(image_path))
        h, w = image.shape[:2]
        poses = model(image)
        label = Path(str(image_path).replace("/images/", "/labels/")).with_suffix(".txt")
        for row in (list(map(float, line.split())) for line in label.read_text().splitlines() if line.strip()):
            box = np.array([(row[1] - row[3] / 2) * w, (row[2] - row[4] / 2) * h, (row[1] + row[3] / 2) * w, (row[2] + row[4] / 2) * h])
            truth = np.array(row[5:]).reshape(17, 3) * np.array([w, h, 1])
            if len(poses) == 0 or (truth[:, 2] > 0).sum() < 5:
                continue
            iou = box_iou(box[None], poses.xyxy)[0]
            j = int(iou.argmax())
            if iou[j] < 0.5:
                continue
            seen = truth[:, 2] > 0
            errors.append(float(np.median(np.linalg.norm(poses.keypoints[j, seen, :2] - truth[seen, :2], axis=1)) / (box[3] - box[1])))
    assert len(errors) >= 8
    assert np.median(errors) < 0.06  # median keypoint within 6 % of the person's height


def test_the_cue_on_a_real_shop_clip(model: PoseModel) -> None:
    """Shoplifting (15): the person at the counter stands with both arms away from the hips at first,
    later holds a hand at the hip (seen by eye on the frames)."""
    cap = cv2.VideoCapture(str(media_dir() / "shoplifting_mnnit_dev" / "Shoplifting" / "Shoplifting (15).mp4"))
    frames = {}
    index = 0
    while len(frames) < 2:
        ok, image = cap.read()
        assert ok
        if index in (0, 150):
            frames[index] = image
        index += 1
    cap.release()

    def main_person(image: np.ndarray) -> np.ndarray:
        poses = model(image)
        assert len(poses) >= 1
        return poses.keypoints[int(np.argmax((poses.xyxy[:, 2] - poses.xyxy[:, 0]) * (poses.xyxy[:, 3] - poses.xyxy[:, 1])))]

    assert not hand_at_hip(main_person(frames[0]))
    assert hand_at_hip(main_person(frames[150]))


SQUARE = {"z": np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float32)}


def pose(at_hip: bool) -> np.ndarray:
    kp = np.zeros((17, 3), np.float32)
    kp[[5, 6, 11, 12]] = [[40, 20, 1], [60, 20, 1], [42, 60, 1], [58, 60, 1]]
    kp[9] = [44, 62, 1] if at_hip else [20, 30, 1]
    kp[10] = [80, 30, 1]
    return kp


def test_the_pose_rule_needs_the_cue_long_enough_in_the_window_inside_the_zone() -> None:
    rule = PoseCueRule(zone="z", min_s=1.0, window_s=3.0)
    inside, outside = (50.0, 50.0), (150.0, 50.0)

    def run(steps: list[tuple[dict[int, tuple[float, float]], dict[int, bool | None]]]) -> list[tuple[int, float]]:
        engine = RuleEngine([rule], SQUARE, (480, 360))
        out = []
        for k, (where, cue) in enumerate(steps):
            ids = list(where)
            poses = {tid: pose(c) for tid, c in cue.items() if c is not None}
            out += [(n.track_id, round(n.at_s, 1)) for n in engine.update(k / 10, ids, [where[i] for i in ids], poses)]
        return out

    assert run([({1: inside}, {1: True})] * 12) == [(1, 1.0)]  # 1 s of cue: one notice, not one per frame
    assert run([({1: inside}, {1: k % 4 == 0}) for k in range(40)]) == []  # brief, scattered cues
    assert run([({1: outside}, {1: True})] * 20) == []  # outside the zone
    assert run([({1: inside}, {1: None})] * 20) == []  # no pose matched (occluded): no cue
    two = [({1: inside, 2: inside}, {1: True, 2: False})] * 15
    assert run(two) == [(1, 1.0)]  # only the one whose hand is at the hip
    with pytest.raises(ValueError):
        BehaviourAnalyzerConfig(rules=[{"rule": "pose_cue", "zone": "z", "min_s": 0}])


def test_the_analyzer_sends_an_experimental_pose_notice_on_a_real_clip(model: PoseModel) -> None:
    from edge.detectors import create_detector
    from edge.usecases.behaviour.evaluate import DEFAULT_SCENE, load_scene, run_clip

    scene = load_scene(DEFAULT_SCENE.with_name("mnnit_room_pose.yaml"))
    result = run_clip(media_dir() / "shoplifting_mnnit_dev" / "Shoplifting" / "Shoplifting (15).mp4", scene,
                      create_detector(scene.detector))
    assert [n["type"] for n in result["notices"]] == ["behaviour.pose_cue"]
    assert result["notices"][0]["summary"].startswith("Experimental pose cue: track ")
