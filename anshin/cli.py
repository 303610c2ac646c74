"""The ``anshin`` command: the composition root that mounts edge and central commands.

Each area owns its commands in its own typer app; this module only assembles them.
"""

from __future__ import annotations

import typer

from anshin.bench import bench_app
from anshin.bench_ingest import bench_ingest
from anshin.checkout_demo import checkout_app
from anshin.demo import demo
from anshin.secrets import secrets_app
from anshin.shelf_demo import shelf_demo
from edge.cli import config_app, edge_app
from edge.eval.cli import eval_app
from edge.models_cli import models_app
from edge.usecases.airtouch.cli import airtouch_app
from edge.usecases.airtouch.cli import eval_command as airtouch_eval
from edge.usecases.behaviour.evaluate import behaviour_command, predict_command
from edge.usecases.checkout.evaluate import checkout_command, faces_command
from edge.usecases.floor.record import record_floor_command
from edge.usecases.lines.evaluate import lines_command
from edge.usecases.shelf.gaps.evaluate import shelf_command
from edge.usecases.ventilation.cli import sim_app
from services.central.cli import central_app
from services.central.commands.cli import commands_app
from services.central.mqtt.cli import ingest_app
from services.central.retention.cli import retention_app
from services.central.stores.cli import stores_app
from services.central.usecases.floor.cli import floor_app
from services.central.usecases.floor.evaluate import route_command
from services.central.usecases.insights.cli import insights_app
from services.central.usecases.insights.eval_cli import forecast_eval
from services.central.usecases.shelf.cli import shelf_app
from services.central.users.cli import users_app
from services.central.webhooks.cli import webhooks_app
from services.contract.cli import schema_app

app = typer.Typer(
    name="anshin",
    help="Anshin: smart-retail COVID operations (edge camera analytics, review queue, audit).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Sub-apps: each area owns its commands; this block only mounts them.
app.add_typer(schema_app, name="schema")
app.add_typer(models_app, name="models")
app.add_typer(eval_app, name="eval")
eval_app.command("predict")(predict_command)
eval_app.command("behaviour")(behaviour_command)
app.add_typer(sim_app, name="sim")
eval_app.command("lines")(lines_command)
eval_app.command("route")(route_command)  # B: exposure saved by least-exposure routes
eval_app.command("record-floor")(record_floor_command)  # B: a camera's floor.positions over its video
eval_app.command("forecast")(forecast_eval)  # J: MASE, WAPE, 80 % coverage of sales forecasts
eval_app.command("shelf")(shelf_command)  # I: empty-shelf detection, P/R/F1/AP at IoU 0.5 and 0.3
eval_app.command("faces")(faces_command)  # E: --pairs: face verification FAR/FRR; without: A's YuNet check
eval_app.command("checkout")(checkout_command)  # E: 1:N exit simulation (false charges, auto-charged, to staff)
app.add_typer(checkout_app, name="checkout")  # E: anshin checkout demo
eval_app.command("airtouch")(airtouch_eval)  # D: air-touch press precision/recall, pointing error, latency
app.add_typer(airtouch_app, name="airtouch")  # D: record-traces | serve | replay
app.add_typer(shelf_app, name="shelf")  # I: restock loop, simulated AMR, back-room stock
shelf_app.command("demo")(shelf_demo)  # I: the closed loop on shelf photos with a simulated AMR
app.add_typer(config_app, name="config")
app.add_typer(edge_app, name="edge")
app.add_typer(central_app)
app.command("demo")(demo)
app.add_typer(bench_app, name="bench")
bench_app.command("ingest")(bench_ingest)
app.add_typer(users_app, name="users")
app.add_typer(stores_app, name="stores")
stores_app.add_typer(floor_app, name="floor")  # B: anshin stores floor set|show
app.add_typer(ingest_app, name="ingest")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(commands_app, name="commands")
app.add_typer(retention_app, name="retention")
app.add_typer(secrets_app, name="secrets")
app.add_typer(insights_app, name="insights")
