"""`anshin bench edge` reports the real pipeline's figures as JSON."""

import json
import subprocess
import sys
from pathlib import Path

from edge.paths import media_dir

ANSHIN = str(Path(sys.executable).parent / "anshin")


CAMERA_STAGES = {"decode", "detect", "track", "analyze", "faces", "evidence", "live", "outbox", "other"}


def test_bench_edge_prints_fps_latency_and_stage_split_for_a_backend():
    video = media_dir() / "pets2009_vtest_480x360.mp4"
    # No warm-up: the first measured frame offers the live picture (every 2 s), so faces and live are timed.
    done = subprocess.run([ANSHIN, "bench", "edge", "--source", str(video), "--frames", "8", "--warmup", "0",
                           "--backend", "onnx", "--detect-every", "2", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    # imgsz None: the PETS camera's model (yolo11n int8) has a fixed 320 px input, so none is configured
    assert report["backend"] == "onnx" and report["imgsz"] is None and report["detect_every"] == 2
    assert len(report["load_average"]) == 3
    onnx = report["backends"]["onnx"]
    assert (onnx["frames"], onnx["detect_frames"], onnx["carry_frames"]) == (8, 4, 4)

    # fps: detect frames are the slow ones, carried frames the fast ones; all frames lie between,
    # and their wall times add up (frames / fps is each kind's wall time).
    assert 0 < onnx["fps_detect_frames"] <= onnx["fps_all_frames"] <= onnx["fps_carry_frames"]
    wall = onnx["camera_thread_wall_s"]
    assert abs(8 / onnx["fps_all_frames"] - wall) <= 0.01 * wall + 1e-3
    assert abs(4 / onnx["fps_detect_frames"] + 4 / onnx["fps_carry_frames"] - wall) <= 0.01 * wall + 1e-3
    assert 0 < wall <= onnx["run_elapsed_s"]  # the run also starts the publisher and drains the outbox
    for kind in ("detect", "carry", "all"):
        assert 0 < onnx[f"p50_ms_{kind}_frames"] <= onnx[f"p95_ms_{kind}_frames"]
    assert onnx["p50_ms_detect_frames"] > onnx["p50_ms_carry_frames"]
    assert {k: report[k] for k in ("fps_all_frames", "fps_detect_frames", "p50_ms_detect_frames", "p95_ms_detect_frames")} == {
        k: onnx[k] for k in ("fps_all_frames", "fps_detect_frames", "p50_ms_detect_frames", "p95_ms_detect_frames")}

    # Every camera-thread stage is timed, live picture and faces included, and the shares of the
    # camera thread's wall time add up to 100 %, with little left in no stage.
    assert set(onnx["stages_ms_per_frame"]) == set(onnx["stage_shares"]) == CAMERA_STAGES
    counts = onnx["stage_counts"]
    assert (counts["decode"], counts["analyze"], counts["detect"], counts["track"]) == (8, 8, 4, 4)
    assert counts["live"] >= 1 and counts["faces"] >= 1  # the live picture is blurred: faces are found for it
    assert onnx["stages_ms_per_frame"]["live"] > 0 and onnx["stages_ms_per_frame"]["faces"] > 0
    assert all(share >= 0 for share in onnx["stage_shares"].values())
    assert abs(sum(onnx["stage_shares"].values()) - 1) <= 0.01 and abs(onnx["shares_sum"] - 1) <= 0.01
    assert onnx["other_share"] == onnx["stage_shares"]["other"] < 0.05
    assert abs(sum(onnx["stages_ms_per_frame"].values()) * 8 / 1000 - wall) <= 0.01 * wall + 1e-3
    # inference dominates a detector pipeline; the split must be a real share, not a constant
    assert onnx["stages_ms_per_frame"]["detect"] > onnx["stages_ms_per_frame"]["decode"]
    assert abs(onnx["non_inference_share"] - (1 - onnx["stage_shares"]["detect"])) <= 0.002
    assert 0 < onnx["non_inference_share"] < 1
    # publishing runs on its own thread: reported beside the camera thread, not in its shares
    assert "publish" not in onnx["stage_shares"]
    assert onnx["publish"]["thread"] == "publisher" and onnx["publish"]["posts"] >= 1 and onnx["publish"]["total_s"] > 0


def test_bench_edge_names_a_missing_video(tmp_path):
    done = subprocess.run([ANSHIN, "bench", "edge", "--source", str(tmp_path / "nope.mp4"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "nope.mp4" in done.stderr
