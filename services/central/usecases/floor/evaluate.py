"""``anshin eval route``: how much exposure least-exposure routes save, replayed on a recorded density history.

The history is what a camera's floor analyzer reported (``floor.positions`` payloads with their
time; ``anshin eval record-floor`` writes it from the camera's video through its live detector,
tracker and homography). At every report time ``t`` the replay:

1. builds the density central would have had (the reports of the ``window_s`` before ``t``);
2. routes every unordered pair of the plan's nodes with it: the suggested route (least
   length + λ·exposure) and the shortest route;
3. scores both routes' exposure on the density of the *next* ``horizon_s`` (the reports after
   ``t``): what someone setting off at ``t`` would meet, not what the router already saw.
   ("planned" figures score on the planning density itself, for comparison.)

Per pair and time: exposure reduction = 1 − suggested / shortest (pairs whose shortest route
meets nobody have nothing to reduce and are left out of that mean), length overhead =
suggested length / shortest length − 1 (over all pairs). Crowded periods are the report times
whose planning density has at least the ``crowded_quantile`` of people on the floor.

Exposure is a model figure: expected person-seconds within ``radius_m`` computed from density
(people/m²) and walking speed, not counted from anyone's trajectory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import typer

from services.central.usecases.floor.density import CameraReport, density_map
from services.central.usecases.floor.plan import FloorPlan, FloorPlanError, load_plan
from services.central.usecases.floor.routing import Router

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
PROJECT_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_HISTORY = PROJECT_ROOT / "config" / "floors" / "recordings" / "demo-store-pets.json"
DEFAULT_PLAN = PROJECT_ROOT / "config" / "floors" / "demo-store.yaml"
GOAL = {"exposure_reduction_min": 0.30, "length_overhead_max": 0.20}


def load_history(path: Path) -> tuple[list[CameraReport], dict[str, Any]]:
    """The recorded reports as :class:`CameraReport` (time = EPOCH + t_s) and the recording's description."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        reports = [CameraReport(str(r["camera_id"]), EPOCH + timedelta(seconds=float(r["t_s"])),
                                tuple((float(x), float(y)) for x, y in r["positions"])) for r in document["reports"]]
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file (record one with `anshin eval record-floor --out {path}`)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a floor history ({exc})") from None
    if not reports:
        raise ValueError(f"{path}: the history holds no reports")
    return sorted(reports, key=lambda r: r.at), {k: v for k, v in document.items() if k != "reports"}


@dataclass(frozen=True, slots=True)
class PairScore:
    crowded: bool
    changed: bool
    length_overhead: float
    realised_short: float
    realised_sug: float
    planned_short: float
    planned_sug: float


def _with_window(plan: FloorPlan, window_s: float) -> FloorPlan:
    # Every report stands for itself: stale_s never trips inside a replay.
    routing = plan.routing.model_copy(update={"window_s": window_s, "stale_s": 1e9})
    return plan.model_copy(update={"routing": routing})


def replay(plan: FloorPlan, reports: list[CameraReport], window_s: float, horizon_s: float,
           lam: float | None = None, crowded_quantile: float = 0.5) -> tuple[list[PairScore], dict[str, Any]]:
    """Score suggested vs shortest routes for every node pair at every report time with a full horizon ahead."""
    planning = _with_window(plan, window_s)
    future = _with_window(plan, horizon_s)
    end = reports[-1].at
    times = sorted({r.at for r in reports if r.at + timedelta(seconds=horizon_s) <= end})
    if not times:
        raise ValueError(f"the history ({(end - reports[0].at).total_seconds():.0f} s) is shorter than horizon_s {horizon_s:g}")
    pairs = list(combinations(plan.nodes, 2))
    densities = [density_map(reports, planning, t) for t in times]
    threshold = float(np.quantile([d.people for d in densities], crowded_quantile))
    scores: list[PairScore] = []
    for t, planned in zip(times, densities, strict=True):
        ahead = [r for r in reports if t < r.at <= t + timedelta(seconds=horizon_s)]
        realised = Router(future, density_map(ahead, future, t + timedelta(seconds=horizon_s)))
        router = Router(planning, planned, lam)
        crowded = planned.people >= threshold
        for a, b in pairs:
            route = router.route(a, b)
            sug, short = route.suggested, route.shortest
            scores.append(PairScore(
                crowded=crowded, changed=sug.nodes != short.nodes,
                length_overhead=sug.length_m / short.length_m - 1.0,
                realised_short=_exposure(realised, short.nodes), realised_sug=_exposure(realised, sug.nodes),
                planned_short=short.exposure_person_s or 0.0, planned_sug=sug.exposure_person_s or 0.0))
    meta = {"times": len(times), "pairs": len(pairs), "crowded_threshold_people": round(threshold, 2),
            "people_per_time": {"min": round(min(d.people for d in densities), 2), "mean": round(float(np.mean([d.people for d in densities])), 2),
                                "max": round(max(d.people for d in densities), 2)}}
    return scores, meta


def _exposure(router: Router, nodes: tuple[str, ...]) -> float:
    return float(sum(router.graph[a][b]["exposure"] or 0.0 for a, b in zip(nodes, nodes[1:], strict=False)))


def summarise(scores: list[PairScore]) -> dict[str, Any]:
    """Means over (time, pair) of exposure reduction (pairs with exposure to reduce) and length overhead."""
    if not scores:
        return {"pair_times": 0}
    exposed = [s for s in scores if s.realised_short > 1e-9]
    planned = [s for s in scores if s.planned_short > 1e-9]
    return {
        "pair_times": len(scores),
        "pair_times_with_exposure": len(exposed),
        "exposure_reduction_mean": _round(np.mean([1 - s.realised_sug / s.realised_short for s in exposed])) if exposed else None,
        # over every pair, also those whose shortest route met nobody (a detour may meet someone there)
        "exposure_reduction_total": _round(1 - sum(s.realised_sug for s in scores) / sum(s.realised_short for s in scores)) if exposed else None,
        "suggested_worse_share": _round(np.mean([s.realised_sug > s.realised_short + 1e-9 for s in scores])),
        "planned_exposure_reduction_mean": _round(np.mean([1 - s.planned_sug / s.planned_short for s in planned])) if planned else None,
        "length_overhead_mean": _round(np.mean([s.length_overhead for s in scores])),
        "length_overhead_mean_changed_routes": _round(np.mean([s.length_overhead for s in scores if s.changed])) if any(s.changed for s in scores) else 0.0,
        "length_overhead_max": _round(max(s.length_overhead for s in scores)),
        "routes_changed_share": _round(np.mean([s.changed for s in scores])),
        "shortest_exposure_mean_person_s": _round(np.mean([s.realised_short for s in scores])),
        "suggested_exposure_mean_person_s": _round(np.mean([s.realised_sug for s in scores])),
    }


def _round(value: float) -> float:
    return round(float(value), 4)


def route_command(
    history: Path = typer.Option(DEFAULT_HISTORY, "--history", help="recorded floor.positions reports (anshin eval record-floor)"),
    plan_file: Path = typer.Option(DEFAULT_PLAN, "--plan", help="the store's floor plan YAML"),
    window_s: float = typer.Option(10.0, "--window-s", min=0.5, help="density window routes are planned with, seconds"),
    horizon_s: float = typer.Option(20.0, "--horizon-s", min=0.5, help="routes are scored on the density of the next this many seconds"),
    lam: float | None = typer.Option(None, "--lambda", min=0.0, help="λ, metres per person-second; default: the plan's"),
    max_overhead: float | None = typer.Option(None, "--max-overhead", min=0.0,
                                              help="longest detour allowed (fraction of the shortest); default: the plan's"),
    crowded_quantile: float = typer.Option(0.5, "--crowded-quantile", min=0.0, max=1.0,
                                           help="times with at least this quantile of people count as crowded"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
) -> None:
    """Exposure saved and length added by least-exposure routes over all node pairs, replaying a density history.

    Example: anshin eval route --json   (the demo's PETS camera, recorded onto the demo floor)
    """
    try:
        plan = load_plan(plan_file)
        if max_overhead is not None:
            plan = plan.model_copy(update={"routing": plan.routing.model_copy(update={"max_overhead": max_overhead})})
        reports, source = load_history(history)
        scores, meta = replay(plan, reports, window_s, horizon_s, lam, crowded_quantile)
    except (FloorPlanError, ValueError) as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    crowded = summarise([s for s in scores if s.crowded])
    figures = {
        "history": str(history), "plan": str(plan_file), "source": source,
        "reports": len(reports), "span_s": round((reports[-1].at - reports[0].at).total_seconds(), 1),
        "window_s": window_s, "horizon_s": horizon_s,
        "lambda_m_per_person_s": plan.routing.lambda_m_per_person_s if lam is None else lam,
        "walking_speed_m_s": plan.routing.walking_speed_m_s, "radius_m": plan.routing.radius_m,
        "max_overhead": plan.routing.max_overhead,
        **meta, "crowded_quantile": crowded_quantile,
        "crowded": crowded, "all": summarise(scores),
        "goal": {**GOAL, "met_in_crowded": bool(
            crowded.get("exposure_reduction_mean") is not None
            and crowded["exposure_reduction_mean"] >= GOAL["exposure_reduction_min"]
            and crowded["length_overhead_mean"] <= GOAL["length_overhead_max"])},
        "note": ("exposure = expected person-seconds within radius_m from density and walking speed (a model, not counted "
                 "contacts); routes planned on the past window_s, scored on the next horizon_s; one camera's video mapped "
                 "onto the demo floor"),
    }
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
    else:
        c = figures["crowded"]
        typer.echo(f"crowded: exposure -{c.get('exposure_reduction_mean')} (mean per pair), length +{c.get('length_overhead_mean')} "
                   f"(mean), routes changed {c.get('routes_changed_share')}; all: {figures['all'].get('exposure_reduction_mean')}")
