"""The ``anshin`` command: the composition root that mounts edge and central commands.

Each area owns its commands in its own typer app; this module only assembles them.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    name="anshin",
    help="Anshin: smart-retail COVID operations (edge camera analytics, review queue, audit).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

schema_app = typer.Typer(help="The versioned event contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


@schema_app.command("export")
def schema_export(
    out: Path = typer.Option(Path("docs/event.schema.json"), "--out", "-o", help="file to write; '-' for stdout"),
) -> None:
    """Write the JSON Schema of the event envelope (contract v1)."""
    from services.contract import event_json_schema

    text = json.dumps(event_json_schema(), indent=2, sort_keys=True) + "\n"
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"wrote {out}")


# Sub-apps, one line each (keep this block additive).
from edge.models_cli import models_app; app.add_typer(models_app, name="models")  # noqa: E402,E702
from edge.eval.cli import eval_app; app.add_typer(eval_app, name="eval")  # noqa: E402,E702
from edge.cli import config_app, edge_app; app.add_typer(config_app, name="config"); app.add_typer(edge_app, name="edge")  # noqa: E402,E702
from services.central.cli import central_app; app.add_typer(central_app)  # noqa: E402,E702
from services.demo import demo; app.command("demo")(demo)  # noqa: E402,E702
from services.bench import bench_app; app.add_typer(bench_app, name="bench")  # noqa: E402,E702
from services.central.users.cli import users_app; app.add_typer(users_app, name="users")  # noqa: E402,E702
from services.central.stores.cli import stores_app; app.add_typer(stores_app, name="stores")  # noqa: E402,E702
from services.central.mqtt.cli import ingest_app; app.add_typer(ingest_app, name="ingest")  # noqa: E402,E702
from services.central.webhooks.cli import webhooks_app; app.add_typer(webhooks_app, name="webhooks")  # noqa: E402,E702
from services.central.bench import bench_ingest; bench_app.command("ingest")(bench_ingest)  # noqa: E402,E702
