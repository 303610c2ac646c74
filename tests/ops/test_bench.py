"""``anshin bench ingest`` prints the figures it promises and loses nothing (a small run; the
speed itself is read from the command's output, never asserted)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from anshin.cli import app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("transport", ["http", "mqtt"])
def test_bench_ingest_prints_figures_with_nothing_lost_or_duplicated(transport: str) -> None:
    r = CliRunner().invoke(app, ["bench", "ingest", "--events", "400", "--edges", "2", "--transport", transport, "--json"])
    assert r.exit_code == 0, r.output
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert list(figures)[:5] == ["events_per_s", "p50_ms", "p99_ms", "lost", "duplicates"]
    assert figures["lost"] == 0 and figures["duplicates"] == 0 and figures["events"] == 400
    assert figures["events_per_s"] > 0 and figures["p99_ms"] >= figures["p50_ms"] >= 0


@pytest.mark.timeout(240)
@pytest.mark.parametrize("transport", ["http", "mqtt"])
def test_bench_ingest_with_two_workers_loses_nothing(transport: str) -> None:
    """``--workers 2``: uvicorn --workers 2 (HTTP), two ingest workers in one share group (MQTT)."""
    r = CliRunner().invoke(app, ["bench", "ingest", "--events", "400", "--edges", "2", "--transport", transport,
                                 "--workers", "2", "--json"])
    assert r.exit_code == 0, r.output
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["workers"] == 2 and figures["events"] == 400
    assert figures["lost"] == 0 and figures["duplicates"] == 0 and figures["unacknowledged"] == 0
