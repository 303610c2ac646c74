"""``anshin schema``: the versioned event contract (its JSON Schema and its event types)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from services.contract.registry import EVENT_TYPES
from services.contract.schema import event_json_schema

schema_app = typer.Typer(help="The versioned event contract.", no_args_is_help=True)


@schema_app.command("export")
def schema_export(
    out: Path = typer.Option(Path("docs/event.schema.json"), "--out", "-o", help="file to write; '-' for stdout"),
) -> None:
    """Write the JSON Schema of the event (contract v1): envelope and every type's payload."""
    text = json.dumps(event_json_schema(), indent=2, sort_keys=True) + "\n"
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"wrote {out}")


@schema_app.command("types")
def schema_types(as_json: bool = typer.Option(False, "--json", help="one JSON array, payload schemas included")) -> None:
    """List the event types: use case, severity, review rules and payload fields."""
    described = [s.describe() for _, s in sorted(EVENT_TYPES.items())]
    if as_json:
        typer.echo(json.dumps(described, indent=2, sort_keys=True))
        return
    for d in described:
        review = "no review"
        if d["review"]:
            review = "review by two people" if d["two_person"] else "review"
            if d["review_deadline_s"] is not None:
                review += f" within {d['review_deadline_s']} s"
        fields = ", ".join(
            f"{name}{'' if name in d['payload_schema'].get('required', []) else '?'}"
            for name in d["payload_schema"].get("properties", {})
        )
        typer.echo(f"{d['type']:<26} {d['use_case']}  {d['severity']:<8} {review}")
        typer.echo(f"{'':<26} {d['description']}")
        typer.echo(f"{'':<26} payload: {fields}")
