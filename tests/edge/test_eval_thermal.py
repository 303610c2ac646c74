"""``anshin eval thermal``: its JSON shape, a corrector that must refuse, and an eval that can fail."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from anshin.cli import app
from edge.eval.thermal import EVAL_CALIBRATION, evaluate
from edge.usecases.entrance.thermal.simulate import SceneRanges

KEYS = {"p50_abs_c", "p95_abs_c", "max_abs_c", "false_alerts_per_1000", "missed_fevers_per_1000"}


def test_the_command_prints_the_figures_refusals_and_seed_as_json():
    result = CliRunner().invoke(app, ["eval", "thermal", "--scenes", "40", "--seed", "7", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert KEYS <= figures.keys()
    assert figures["seed"] == 7 and figures["scenes"] == 40 and figures["threshold_c"] == 37.5
    assert figures["read"] + sum(figures["refusals"].values()) == 40
    assert set(figures["refusals_per_1000"]) == set(figures["refusals"])
    assert 0 <= figures["p50_abs_c"] <= figures["p95_abs_c"] <= figures["max_abs_c"]


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_scenes():
    assert evaluate(30, seed=2) == evaluate(30, seed=2)
    assert evaluate(30, seed=2)["p50_abs_c"] != evaluate(30, seed=3)["p50_abs_c"]


def test_p95_error_of_the_readings_given_is_within_0_5_c():
    figures = evaluate(150, seed=11)
    assert figures["read"] >= 60
    assert figures["p95_abs_c"] <= 0.5


def test_with_the_blackbody_covered_in_every_scene_the_corrector_refuses_every_frame():
    covered = SceneRanges(covered_share=1.0, cover=(1.0, 1.0))
    figures = evaluate(25, seed=4, ranges=covered)
    assert figures["read"] == 0 and figures["p95_abs_c"] is None
    assert figures["refusals"]["blackbody_occluded"] >= 20  # the rest were too far to read anyway
    assert set(figures["refusals"]) <= {"blackbody_occluded", "face_too_small", "canthus_unresolved"}


def test_the_eval_fails_a_corrector_whose_calibration_is_wrong():
    # A coupling constant 0.05 too low overestimates core by ~0.8 °C in a 22 °C room: the figures must show it.
    wrong = EVAL_CALIBRATION.model_copy(update={"canthus_coupling": 0.90})
    figures = evaluate(80, seed=5, calibration=wrong)
    assert figures["p95_abs_c"] > 0.5 and figures["false_alerts_per_1000"] > 50


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_rates_are_per_afebrile_and_per_febrile_visitor_read(share):
    figures = evaluate(30, seed=6, ranges=SceneRanges(febrile_share=share))
    if share == 0.0:
        assert figures["febrile_read"] == 0 and figures["missed_fevers_per_1000"] is None
        assert figures["false_alerts_per_1000"] is not None
    else:
        assert figures["afebrile_read"] == 0 and figures["false_alerts_per_1000"] is None
