"""``anshin insights import|refresh|propose|report``: data in, report computed, proposal raised, PDF out.

Examples (the shared CSVs; each names its date format, because the files mix day and month order)::

    anshin insights import ../shared/data/retail/Walmart_Store_sales.csv --store demo-store \\
        --map value=Weekly_Sales --map date=Date --date-format %d-%m-%Y --only Store=1 \\
        --map features=Holiday_Flag,Temperature,Fuel_Price,CPI
    anshin insights import ../shared/data/retail/BreadBasket_DMS.csv --kind transactions --store demo-store \\
        --map transaction=Transaction --map date=Date --map time=Time --map item=Item \\
        --date-format %Y-%m-%d --ignore-item NONE
    anshin insights refresh --store demo-store && anshin insights propose --store demo-store
    anshin insights report --store demo-store --lang ja --pdf report-ja.pdf
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

insights_app = typer.Typer(help="Sales and purchasing (use case J): import, forecast, propose, report.",
                           no_args_is_help=True)

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]
StoreOpt = Annotated[str, typer.Option("--store", help="store_id")]

#: --map keys that take several comma-separated columns
LIST_KEYS = ("features", "transaction")


def parse_map(pairs: list[str]) -> dict[str, Any]:
    """``["date=Date", "features=A,B"]`` -> mapping fields.

    >>> parse_map(["date=Date", "transaction=Member_number,Date"])
    {'date': 'Date', 'transaction': ('Member_number', 'Date')}
    """
    out: dict[str, Any] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise typer.BadParameter(f"--map takes field=column, got {p!r}")
        key = key.strip()
        out[key] = tuple(v.strip() for v in value.split(",") if v.strip()) if key in LIST_KEYS else value.strip()
    return out


@contextmanager
def _database(url: str | None) -> Iterator[Any]:
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings

    settings = Settings(database_url=url) if url else Settings()
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        yield db, settings
    finally:
        db.dispose()


@insights_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file (UTF-8)")],
    mapping: Annotated[list[str], typer.Option("--map", help="field=column: date, time, store, series, value, "
                                               "features (a,b), transaction (a,b), item, quantity")],
    date_format: Annotated[str, typer.Option(help="strptime format of the date column, e.g. %d-%m-%Y")],
    kind: Annotated[str, typer.Option(help="sales or transactions")] = "sales",
    store: Annotated[Optional[str], typer.Option(help="store_id for every row (else map store=)")] = None,  # noqa: UP045
    time_format: Annotated[str, typer.Option(help="strptime format of the time column")] = "%H:%M:%S",
    only: Annotated[Optional[list[str]], typer.Option(help="column=value: import only those rows")] = None,  # noqa: UP045
    ignore_item: Annotated[Optional[list[str]], typer.Option(help="item value that is no item (e.g. NONE)")] = None,  # noqa: UP045
    database_url: DatabaseUrl = None,
) -> None:
    """Import a sales or transactions CSV: all rows or none; the same file twice changes nothing."""
    from pydantic import ValidationError

    from services.central.usecases.insights.importing import ColumnMapping, ImportRejected, import_file

    try:
        m = ColumnMapping(kind=kind, date_format=date_format, time_format=time_format,  # type: ignore[arg-type]
                          only=dict(o.split("=", 1) for o in (only or []) if "=" in o),
                          ignore_items=tuple(ignore_item or ()), **parse_map(mapping))
    except ValidationError as e:
        typer.secho(f"bad mapping: {e}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    with _database(database_url) as (db, _settings):
        try:
            with db.unit_of_work() as session:
                result = import_file(session, file, m, actor="cli", store_id=store)
        except (ImportRejected, ValueError) as e:
            typer.secho(f"{file}: {e}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from None
    typer.echo(json.dumps(result.as_dict()))


@insights_app.command("refresh")
def refresh_command(store: StoreOpt, database_url: DatabaseUrl = None) -> None:
    """Compute and store the store's report (forecasts, order lines, rules, conversion, staffing)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from services.central.usecases.insights.service import compute, save_report

    with _database(database_url) as (db, _settings), Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True,
        console=_stderr(),
    ) as bar:
        task = bar.add_task("insights", total=None)
        with db.read_session() as session:  # models fit outside the write transaction
            content = compute(session, store, progress=lambda m: bar.update(task, description=m))
        with db.unit_of_work() as session:
            report = save_report(session, content)
            summary = {"report": report.id, "store_id": store, "sales_forecast": report.content["sales"]["available"],
                       "order_lines": len([o for o in report.content["orders"] if o["order_units"] > 0]),
                       "rules": len(report.content["rules"])}
    typer.echo(json.dumps(summary))


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@insights_app.command("propose")
def propose_command(store: StoreOpt, database_url: DatabaseUrl = None) -> None:
    """Raise a purchase proposal from the latest report (a review item staff approve)."""
    from services.central.usecases.insights.service import propose

    with _database(database_url) as (db, settings), db.unit_of_work() as session:
        proposal = propose(session, store, settings, actor="cli")
        out = {"proposal": proposal.id, "lines": len(proposal.lines)} if proposal else {"proposal": None}
    typer.echo(json.dumps(out))


@insights_app.command("report")
def report_command(
    store: StoreOpt,
    pdf: Annotated[Path, typer.Option(help="write the weekly report here (PDF)")],
    lang: Annotated[str, typer.Option(help="ja or en")] = "ja",
    database_url: DatabaseUrl = None,
) -> None:
    """Export the latest weekly report of a store as a PDF, in Japanese or English."""
    from services.central.dashboard.i18n import Translator
    from services.central.usecases.insights import report as render
    from services.central.usecases.insights.service import latest_report
    from services.central.usecases.insights.views import proposals

    if lang not in ("ja", "en"):
        raise typer.BadParameter("--lang: ja or en")
    with _database(database_url) as (db, _settings), db.read_session() as session:
        report = latest_report(session, store)
        if report is None:
            typer.secho(f"no report for {store!r}: run anshin insights refresh --store {store}", err=True,
                        fg=typer.colors.RED)
            raise typer.Exit(2)
        data = render.pdf(dict(report.content), Translator(lang), proposals(session, store))
    pdf.write_bytes(data)
    typer.echo(json.dumps({"pdf": str(pdf), "bytes": len(data)}))
