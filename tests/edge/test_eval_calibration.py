"""Linear count calibration: exact fits, honest blocked cross-validation, and the fit-count CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from anshin.cli import app
from edge.eval.calibration import CountCalibration, block_folds, cross_validated, fit_linear
from edge.eval.fit_manifest import FitManifest, file_digests
from edge.paths import PROJECT_ROOT, media_dir

MALL = media_dir() / "mall_dev"
runner = CliRunner()


def test_fit_recovers_an_exact_line():
    detected = np.arange(10, 30)
    assert fit_linear(detected, 4 + 1.5 * detected) == pytest.approx((4.0, 1.5))


@pytest.mark.parametrize(("detected", "true", "words"), [
    pytest.param([5, 5, 5], [10, 11, 12], "same detected count", id="no spread in detections"),
    pytest.param([5], [10], "at least 2", id="one frame"),
])
def test_fit_refuses_what_cannot_be_fitted(detected, true, words):
    with pytest.raises(ValueError, match=words):
        fit_linear(detected, true)


def test_folds_are_contiguous_blocks_in_sequence_order():
    folds = block_folds(400, 10)
    assert (np.diff(folds) >= 0).all() and np.bincount(folds).tolist() == [40] * 10


def test_cross_validation_never_sees_the_held_out_block():
    # Frames 0-9 follow y = 2x; frames 10-14 are off the line. In-sample fitting would bend
    # towards them; a held-out block must be predicted from the other blocks only.
    x = np.arange(15, dtype=float) + 10
    y = 2 * x
    y[10:] += 30
    pred = cross_validated(x, y, blocks=3)
    intercept, slope = fit_linear(x[:10], y[:10])
    np.testing.assert_allclose(pred[10:], intercept + slope * x[10:])
    assert np.abs(pred[10:] - y[10:]).mean() > 25


@pytest.mark.parametrize("smoothing", [1.0, 0.5])
def test_fit_count_cli_writes_a_calibration_that_count_reproduces_in_sample(tmp_path, smoothing):
    """Memorisation check, not an accuracy figure: the calibration is scored on the frames it was
    fitted on, so eval count must reproduce the in-sample MAE and flag the run as fitted on this data
    (with smoothing too: count averages the box counts in the same order as the fit did)."""
    out = tmp_path / "mall.json"
    fitted = runner.invoke(app, ["eval", "fit-count", "--images", str(MALL), "--limit", "6", "--blocks", "3", "-o", str(out),
                                 "--smoothing", str(smoothing)])
    assert fitted.exit_code == 0, fitted.output
    summary = json.loads(fitted.stdout)
    calibration = CountCalibration.load(out)
    assert calibration.frames == summary["frames"] == 6 and calibration.slope > 0
    assert calibration.smoothing == summary["smoothing"] == smoothing
    assert calibration.cv_mae == summary["cv_mae"] and calibration.cv_mae >= calibration.fit_mae
    assert calibration.command.startswith("anshin eval fit-count --images") and "--limit 6" in calibration.command
    assert ("--smoothing 0.5" in calibration.command) == (smoothing == 0.5)
    # Applying it to the same frames gives the in-sample figure, and the count is no longer low.
    counted = runner.invoke(app, ["eval", "count", "--images", str(MALL), "--limit", "6", "--calibration", str(out), "--json"])
    assert counted.exit_code == 0, counted.output
    result = json.loads(counted.stdout)
    assert result["mae"] == pytest.approx(calibration.fit_mae, abs=1e-3)
    assert result["mae"] < summary["uncalibrated_mae"]
    # fit-count wrote the frames' hashes beside the calibration, so the in-sample run says so.
    assert FitManifest.load(tmp_path / "mall.fit.json").sha256 == sorted(set(file_digests(MALL / f for f in result_files(out))))
    assert result["fitted_on_this_data"] is True and result["fitted_overlap"] == 1.0


def result_files(calibration_path):
    """The frame files a --limit run used: the same spread over the truth file's sorted names."""
    from edge.eval.count import spread

    calibration = CountCalibration.load(calibration_path)
    return spread(list(json.loads((MALL / "truth.json").read_text())), calibration.frames)


def test_count_without_a_calibration_is_not_flagged_and_an_unmanifested_calibration_is_unknown(tmp_path):
    plain = runner.invoke(app, ["eval", "count", "--images", str(MALL), "--limit", "2", "--json"])
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["fitted_on_this_data"] is False
    legacy = tmp_path / "legacy.json"
    shutil.copy(PROJECT_ROOT / "models" / "calibration" / "mall_dev_yolov8n_int8_640.json", legacy)  # no .fit.json
    counted = runner.invoke(app, ["eval", "count", "--images", str(MALL), "--limit", "2", "--calibration", str(legacy), "--json"])
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout)["fitted_on_this_data"] is None and "no fit manifest" in counted.stderr


def test_count_refuses_detector_options_next_to_a_calibration(tmp_path):
    committed = sorted(p for p in (PROJECT_ROOT / "models" / "calibration").glob("*.json") if not p.name.endswith(".fit.json"))
    assert committed, "models/calibration holds the fitted Mall calibration"
    result = runner.invoke(app, ["eval", "count", "--images", str(MALL), "--calibration", str(committed[0]), "--conf", "0.1"])
    assert result.exit_code == 2 and "--conf" in result.output
