"""`anshin bench edge` reports the real pipeline's figures as JSON."""

import json
import subprocess
import sys
from pathlib import Path

from edge.paths import media_dir

ANSHIN = str(Path(sys.executable).parent / "anshin")


def test_bench_edge_prints_fps_latency_and_stage_split_for_a_backend():
    video = media_dir() / "pets2009_vtest_480x360.mp4"
    done = subprocess.run([ANSHIN, "bench", "edge", "--source", str(video), "--frames", "8", "--warmup", "1",
                           "--backend", "onnx", "--detect-every", "2", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["backend"] == "onnx" and report["imgsz"] == 640 and report["detect_every"] == 2
    assert set(report["stages"]) == {"decode", "detect", "track", "analyze", "outbox", "publish"}
    onnx = report["backends"]["onnx"]
    assert onnx["frames"] == 8
    assert report["fps"] > 0 and 0 < report["p50_ms"] <= report["p95_ms"]
    # inference dominates a detector pipeline; the split must be a real share, not a constant
    assert report["stages"]["detect"] > report["stages"]["decode"]
    assert 0 < report["non_inference_share"] < 1


def test_bench_edge_names_a_missing_video(tmp_path):
    done = subprocess.run([ANSHIN, "bench", "edge", "--source", str(tmp_path / "nope.mp4"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "nope.mp4" in done.stderr
