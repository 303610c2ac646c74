"""Counting evaluation on real Mall frames: figures recomputed independently; CLI prints JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig
from edge.eval.count import CountMetrics, count_frames, load_truth, spread, summarize
from edge.paths import PROJECT_ROOT, media_dir

MALL = media_dir() / "mall_dev"


@pytest.fixture(scope="module")
def five_frames():
    truth = load_truth(MALL / "truth.json")
    files = spread(list(truth), 5)
    return count_frames(create_detector(OnnxDetectorConfig()), MALL, truth, files)


def test_figures_match_an_independent_recomputation(five_frames):
    true = [f.true for f in five_frames]
    pred = [f.pred for f in five_frames]
    got = summarize(five_frames)
    n = len(true)
    assert got["frames"] == n == 5
    assert got["mae"] == pytest.approx(sum(abs(p - t) for p, t in zip(pred, true)) / n, abs=1e-3)
    assert got["rmse"] == pytest.approx(math.sqrt(sum((p - t) ** 2 for p, t in zip(pred, true)) / n), abs=1e-3)
    assert got["mean_true"] == pytest.approx(sum(true) / n, abs=1e-3)
    assert got["mean_pred"] == pytest.approx(sum(pred) / n, abs=1e-3)
    assert got["ms_per_frame"] > 0


def test_plain_detector_finds_people_but_undercounts_the_crowd(five_frames):
    # Mall: 14-53 people per frame, many only a few pixels tall; yolov8n at 640 misses many.
    for f in five_frames:
        assert 0 < f.pred < f.true, f


def test_truth_counts_are_the_annotated_frames(five_frames):
    assert [f.file for f in five_frames] == ["seq_000001.jpg", "seq_000301.jpg", "seq_000601.jpg", "seq_000898.jpg", "seq_001198.jpg"]
    assert all(14 <= f.true <= 53 for f in five_frames)


@pytest.mark.parametrize(("true", "pred", "mae", "rmse"), [
    pytest.param([5], [5], 0.0, 0.0, id="exact"),
    pytest.param([10, 10], [7, 13], 3.0, 3.0, id="errors cancel in the mean, not in MAE"),
    pytest.param([0, 4], [0, 0], 2.0, math.sqrt(8), id="RMSE weighs the big miss"),
])
def test_count_metrics(true, pred, mae, rmse):
    m = CountMetrics.of(true, pred)
    assert (m.mae, m.rmse) == pytest.approx((mae, rmse))


@pytest.mark.parametrize(("content", "words"), [
    pytest.param('{"a.jpg": {"heads": []}}', ["'a.jpg'", "count"], id="entry without count"),
    pytest.param('{"a.jpg": {"count": -1}}', ["'a.jpg'"], id="negative count"),
    pytest.param("[1, 2]", ["object"], id="not an object"),
    pytest.param("{nope", ["not valid JSON"], id="not JSON"),
])
def test_bad_truth_files_name_the_problem(tmp_path, content, words):
    path = tmp_path / "truth.json"
    path.write_text(content)
    with pytest.raises(ValueError) as err:
        load_truth(path)
    assert str(path) in str(err.value) and all(w in str(err.value) for w in words)


def test_cli_prints_json_on_stdout_and_progress_on_stderr():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "anshin"), "eval", "count", "--images", str(MALL), "--limit", "2", "--json"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )
    result = json.loads(out.stdout)
    assert {"frames", "mae", "rmse", "mean_true", "mean_pred", "ms_per_frame", "backend", "conf", "imgsz"} <= set(result)
    assert result["frames"] == 2 and result["backend"] == "onnx" and result["imgsz"] == 640
    assert "2/2 frames" in out.stderr
