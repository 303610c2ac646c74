"""``anshin eval track``: MOT scoring on known cases, and the command on the demo camera's real video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from anshin.cli import app
from edge.eval.track import load_mot, parse_mot, score_tracks
from edge.paths import media_dir

GT = media_dir() / "pets2009_gt" / "gt_480x360_frames0001-0400.txt"


def _as_tracks(truth, shift=0.0, id_offset=0):
    return {f: (t.ids[~t.ignored] + id_offset, t.xyxy[~t.ignored] + shift) for f, t in truth.items()}


def test_the_truth_itself_scores_perfectly_and_ids_need_not_match_by_number():
    truth = load_mot(GT)
    figures = score_tracks(truth, _as_tracks(truth, id_offset=1000))
    assert (figures["frames"], figures["mota"], figures["idf1"], figures["id_switches"], figures["fp"], figures["fn"]) == (400, 1.0, 1.0, 0, 0, 0)
    assert figures["truth_boxes"] == 2396 - 174  # flag-0 rows are not counted


def test_misses_false_alarms_and_switches_are_counted():
    truth = parse_mot(["1,1,0,0,10,10,1", "1,2,50,0,10,10,1", "2,1,0,0,10,10,1", "2,2,50,0,10,10,1"])
    tracks = {
        1: (np.array([7, 8, 9]), np.array([[0, 0, 10, 10], [50, 0, 60, 10], [200, 200, 210, 210]])),  # one false alarm
        2: (np.array([8]), np.array([[0, 0, 10, 10]])),  # person 1 now carries person 2's id; person 2 missed
    }
    figures = score_tracks(truth, tracks)
    assert (figures["fp"], figures["fn"], figures["id_switches"]) == (1, 1, 1)
    assert figures["mota"] == pytest.approx(1 - 3 / 4)


def test_a_box_on_an_ignored_person_is_neither_a_hit_nor_a_false_alarm():
    truth = parse_mot(["1,1,0,0,10,10,1", "1,2,50,0,10,10,0"])
    tracks = {1: (np.array([1, 2]), np.array([[0, 0, 10, 10], [50, 0, 60, 10]]))}
    figures = score_tracks(truth, tracks)
    assert (figures["fp"], figures["fn"], figures["mota"]) == (0, 0, 1.0)


def test_bad_ground_truth_lines_are_named():
    with pytest.raises(ValueError, match="line 2"):
        parse_mot(["1,1,0,0,10,10,1", "1,x,0,0,10,10,1"])


def _demo_camera():
    from edge.config import load_store_config
    from edge.paths import PROJECT_ROOT

    return load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml").camera("pets-aisle")


def test_command_runs_the_demo_camera_live_settings_on_the_frames_the_truth_covers(tmp_path: Path):
    short = tmp_path / "gt.txt"
    short.write_text("".join(line for line in GT.read_text().splitlines(keepends=True) if int(line.split(",")[0]) <= 30))
    result = CliRunner().invoke(app, ["eval", "track", "--gt", str(short), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    cam = _demo_camera()
    assert figures["frames"] == 30 and figures["frames_run"] == 30
    assert figures["detect_frames"] == -(-30 // cam.detect_every)  # the camera's own cadence, from its first frame
    assert figures["settings"] == {
        "detector": cam.detector.model_dump(mode="json"), "detect_every": cam.detect_every,
        "tracker": cam.tracker.model_dump(mode="json"),
    }
    assert 0.3 < figures["mota"] <= 1.0 and 0.0 < figures["idf1"] <= 1.0 and figures["fps"] > 0


def test_frames_option_scores_only_that_range_while_tracking_from_the_first_frame():
    result = CliRunner().invoke(app, ["eval", "track", "--frames", "11-30", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["frames"], figures["frames_run"], figures["scored_frames"]) == (20, 30, [11, 30])
    truth = load_mot(GT)
    assert figures["truth_boxes"] == sum(int((~truth[f].ignored).sum()) for f in range(11, 31))


def test_model_option_runs_another_detector_with_the_camera_settings_and_checks_its_own_fit():
    """The published COCO model was never trained on PETS: the same frames that are "fitted" for the
    camera's own model are unseen for it, and everything but the model file stays the camera's."""
    from edge.config import load_store_config
    from edge.paths import PROJECT_ROOT

    result = CliRunner().invoke(app, ["eval", "track", "--model", "yolo11n_int8.onnx", "--frames", "1-20", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    cam = load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml").camera("pets-aisle")
    assert figures["settings"]["detector"] == {**cam.detector.model_dump(mode="json"), "model": "yolo11n_int8.onnx"}
    assert figures["fitted_on_this_data"] is False and figures["frames"] == 20


@pytest.mark.parametrize("bad", ["30-11", "0-5", "x-3", "12"])
def test_frames_option_rejects_a_bad_range(bad):
    result = CliRunner().invoke(app, ["eval", "track", "--frames", bad])
    assert result.exit_code == 2 and "--frames must be FIRST-LAST" in result.output


def test_the_demo_camera_runs_a_real_low_score_pass():
    """ByteTrack's second association only works if the detector hands over boxes below the high
    threshold: the live settings must let them through, and on the PETS video they must keep people
    tracked (with a detector cut at 0.25 no tracked box would score below it)."""
    import cv2

    from edge.detectors import create_detector
    from edge.tracking import ByteTracker
    from edge.tracking.cadence import DetectTrackCadence

    cam = _demo_camera()
    assert cam.detector.conf <= cam.tracker.track_low_thresh < cam.tracker.track_high_thresh
    cadence = DetectTrackCadence(create_detector(cam.detector), ByteTracker(cam.tracker), cam.detect_every)
    capture = cv2.VideoCapture(str(media_dir() / "pets2009_vtest_480x360.mp4"))
    scores = []
    try:
        for frame in range(1, 796):  # kept after frame 400: the detector was fine-tuned on 1-400 (surer there)
            ok, image = capture.read()
            assert ok
            step = cadence.step(image)
            if frame > 400:
                scores.append(step.tracks.score)
    finally:
        capture.release()
    tracked = np.concatenate(scores)
    assert (tracked < cam.tracker.track_high_thresh).any(), "no tracked box came from the low-score pass"
    assert (tracked < 0.25).sum() >= 10, "faint boxes (below the old 0.25 cut) should keep people tracked"
    assert tracked.min() > cam.tracker.track_low_thresh


def test_command_says_what_is_wrong_with_a_missing_ground_truth(tmp_path: Path):
    result = CliRunner().invoke(app, ["eval", "track", "--gt", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2 and "cannot read ground truth" in result.output


def test_command_says_when_the_detector_was_trained_on_the_scored_frames():
    """The demo camera's detector was fine-tuned on PETS frames 1-400 (its fit manifest lists one
    digest per frame): scoring any of them is memorisation, frames after 400 are not."""
    from edge.eval.track import fitted_on_frames

    video = media_dir() / "pets2009_vtest_480x360.mp4"
    model = _demo_camera().detector.model
    seen = fitted_on_frames(video, list(range(395, 406)), model)
    assert seen["fitted_on_this_data"] is True and seen["fitted_overlap"] == pytest.approx(6 / 11, abs=1e-4)
    assert seen["fitted_artifacts"][0]["artifact"] == "models/weights/pets_person_v2.onnx"
    unseen = fitted_on_frames(video, list(range(401, 796)), model)
    assert unseen["fitted_on_this_data"] is False and unseen["fitted_overlap"] == 0.0
    assert "models/weights/pets_person_v2.onnx" in unseen["fit_manifests_checked"]


def test_zoom_option_scores_a_close_up_of_the_labelled_people():
    """``--zoom 2``: frames and truth cropped to half around where the labelled people walk and scaled
    back up; the truth it scores is that crop's, and the frames stay the fitted ones (the camera's
    model saw them, only smaller), so the result still says fitted_on_this_data."""
    from edge.eval.closeup import CloseUp

    result = CliRunner().invoke(app, ["eval", "track", "--zoom", "2", "--frames", "1-20", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    truth = load_mot(GT)
    view = CloseUp.around(truth, 480, 360, 2.0)
    assert figures["closeup"] == {"zoom": 2.0, "crop_origin": list(view.origin)}
    zoomed = view.truth(truth)
    assert figures["truth_boxes"] == sum(int((~zoomed[f].ignored).sum()) for f in range(1, 21)) > 0
    heights = np.concatenate([(zoomed[f].xyxy[:, 3] - zoomed[f].xyxy[:, 1])[~zoomed[f].ignored] for f in range(1, 21)])
    assert np.median(heights) > 80  # labelled people are about 48 px tall in the full view
    assert figures["fitted_on_this_data"] is True and 0.0 < figures["mota"] <= 1.0
    assert any("yolo11n_int8" in m for m in figures["fit_manifests_checked"])  # the near-field model's fit is checked too
    bad = CliRunner().invoke(app, ["eval", "track", "--zoom", "0.5"])
    assert bad.exit_code == 2 and "--zoom" in bad.output
