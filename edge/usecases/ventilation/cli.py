"""``anshin sim ventilation``: a day of the site's zones under DCV or fixed maximum ventilation.

Example: anshin sim ventilation --hours 12 --occupancy demo --strategy dcv --json
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from edge.paths import PROJECT_ROOT
from edge.usecases.ventilation.config import VentilationConfigError, load
from edge.usecases.ventilation.sim import load_occupancy, simulate

sim_app = typer.Typer(help="Simulations of building systems (ventilation).", no_args_is_help=True)

DEMO_CONFIG = PROJECT_ROOT / "config" / "demo-store-ventilation.yaml"
DEMO_OCCUPANCY = PROJECT_ROOT / "config" / "demo-store-ventilation-occupancy.csv"


@sim_app.command("ventilation")
def ventilation(
    hours: float = typer.Option(12.0, "--hours", min=0.1, max=24 * 14, help="simulated hours"),
    occupancy: str = typer.Option("demo", "--occupancy",
                                  help="occupancy CSV (time_s,<zone>...), or 'demo': the demo's recorded F counts"),
    strategy: str = typer.Option("dcv", "--strategy", help="dcv (demand control) or fixed (maximum all day)"),
    config: Path = typer.Option(DEMO_CONFIG, "--config", help="the site's ventilation YAML"),
    seed: int = typer.Option(0, "--seed", help="seed of the CO₂ sensor noise"),
    as_json: bool = typer.Option(False, "--json", help="one JSON line"),
) -> None:
    """Print {co2_p95_ppm, co2_max_ppm, minutes_over_1000ppm, fan_kwh, purge_minutes_to_5_ach, ...}."""
    if strategy not in ("dcv", "fixed"):
        raise typer.BadParameter("dcv or fixed", param_hint="--strategy")
    try:
        site = load(config)
        series = load_occupancy(DEMO_OCCUPANCY if occupancy == "demo" else Path(occupancy))
        result = simulate(site, series, hours=hours, strategy=strategy, seed=seed)
    except (VentilationConfigError, ValueError, OSError) as exc:
        typer.echo(f"anshin sim ventilation: {exc}", err=True)
        raise typer.Exit(2) from None
    doc = dataclasses.asdict(result) | {"config": str(config), "occupancy": occupancy}
    typer.echo(json.dumps(doc) if as_json else json.dumps(doc, indent=2, ensure_ascii=False))
