"""``anshin eval route``: replaying a density history scores suggested against shortest routes on the
density that follows (not the one planned with), over every node pair."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from services.central.usecases.floor.evaluate import DEFAULT_HISTORY, DEFAULT_PLAN, load_history, replay, route_command, summarise
from services.central.usecases.floor.plan import load_plan

from .test_floor_routing import LADDER

app = typer.Typer()  # the command on a bare app, as anshin/cli.py mounts it on `anshin eval`
app.command()(route_command)


def history(tmp_path: Path, frames: list[list[list[float]]], step_s: float = 2.0) -> Path:
    path = tmp_path / "history.json"
    reports = [{"camera_id": "cam", "t_s": k * step_s, "positions": pts} for k, pts in enumerate(frames)]
    path.write_text(json.dumps({"store_id": "s1", "reports": reports}), encoding="utf-8")
    return path


def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"  # YAML is a superset of JSON
    path.write_text(json.dumps(LADDER), encoding="utf-8")
    return path


def test_a_standing_crowd_on_the_shortest_path_is_avoided_in_the_replay(tmp_path: Path) -> None:
    crowd = [[5.0 + 0.3 * (k % 3), 3.2 + 0.3 * (k // 3)] for k in range(6)]
    reports, _ = load_history(history(tmp_path, [crowd] * 20))
    scores, meta = replay(load_plan(plan_file(tmp_path)), reports, window_s=4, horizon_s=6)
    assert meta["pairs"] == 6 and meta["times"] == 17
    figures = summarise(scores)
    # Only a -> b can go round (every other pair starts or ends at the crowd, or never passes it).
    changed = [sc for sc in scores if sc.changed]
    assert len(changed) == meta["times"] and figures["routes_changed_share"] == round(1 / 6, 4)
    assert all(sc.realised_sug < 0.5 * sc.realised_short and 0.1 < sc.length_overhead < 0.2 for sc in changed)
    assert figures["exposure_reduction_mean"] > 0.05 and figures["suggested_worse_share"] == 0.0


def test_an_empty_floor_gives_nothing_to_reduce_and_no_detours(tmp_path: Path) -> None:
    reports, _ = load_history(history(tmp_path, [[]] * 10))
    figures = summarise(replay(load_plan(plan_file(tmp_path)), reports, window_s=4, horizon_s=6)[0])
    assert figures["exposure_reduction_mean"] is None and figures["length_overhead_mean"] == 0.0
    assert figures["routes_changed_share"] == 0.0


def test_eval_route_on_the_recorded_demo_history_prints_its_figures(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["history"] == str(DEFAULT_HISTORY) and figures["plan"] == str(DEFAULT_PLAN)
    assert figures["pairs"] == 325 and figures["source"]["source"]["camera_id"] == "pets-aisle"
    for period in ("crowded", "all"):
        f = figures[period]
        assert 0 <= f["length_overhead_mean"] <= f["length_overhead_max"] <= figures["max_overhead"] + 1e-9
        assert -1 <= f["exposure_reduction_mean"] <= 1 and f["pair_times"] > 0
    assert set(figures["goal"]) == {"exposure_reduction_min", "length_overhead_max", "met_in_crowded"}


def test_eval_route_refuses_a_missing_or_short_history(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--history", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "no such file" in result.output
    short = history(tmp_path, [[[1.0, 1.0]]] * 3)
    result = CliRunner().invoke(app, ["--history", str(short), "--plan", str(plan_file(tmp_path))])
    assert result.exit_code == 2 and "shorter than horizon_s" in result.output
