"""``anshin commands listen``: the worker that stores device reports from MQTT ``_cmd_result``
topics and republishes commands the API could not publish (broker away)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

commands_app = typer.Typer(help="Commands from central to store devices.", no_args_is_help=True)


@commands_app.callback()
def _group() -> None:
    """Commands to devices (issue them with POST /api/v1/commands)."""


@commands_app.command("listen")
def listen(
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="default: ANSHIN_DATABASE_URL")] = None,  # noqa: UP045
    mqtt_url: Annotated[Optional[str], typer.Option("--mqtt-url", help="default: ANSHIN_COMMANDS_MQTT_URL")] = None,  # noqa: UP045
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="stable per listener; default: ANSHIN_COMMANDS_CLIENT_ID or anshin-commands-<hostname>")] = None,  # noqa: UP045
    progress_every: Annotated[float, typer.Option("--progress-every", min=0.5, help="seconds between progress lines")] = 30.0,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="bring the schema to the latest migration first")] = True,
) -> None:
    """Subscribe to $share/<group>/anshin/v1/+/+/_cmd_result and store each report (acked after commit).

    Broker credentials come from ANSHIN_COMMANDS_USERNAME / ANSHIN_COMMANDS_PASSWORD only.
    """
    from services.central.background import run_until_signalled, settings_or_exit
    from services.central.commands.mqtt import CommandResultListener
    from services.central.commands.settings import CommandSettings
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.contract.logs import configure_logging

    configure_logging()
    overrides = {k: v for k, v in (("mqtt_url", mqtt_url), ("client_id", client_id)) if v}
    settings = CommandSettings(**overrides)  # type: ignore[arg-type]
    if settings.mqtt_url is None:
        typer.echo("error: no broker: set ANSHIN_COMMANDS_MQTT_URL or pass --mqtt-url "
                   "(stores without a broker need no listener: devices use the HTTP long-poll)", err=True)
        raise typer.Exit(2)
    central = settings_or_exit(database_url)
    db = Database.from_settings(central)
    if migrate:
        upgrade(db.engine)
    listener = CommandResultListener(db, settings)
    typer.echo(f"commands {settings.client_id}: {settings.mqtt_url} {settings.subscription} → "
               f"{db.engine.url.render_as_string(hide_password=True)}", err=True)

    def progress() -> str:
        s = listener.stats
        return (f"commands: {s.messages} reports, {s.stored} stored, {s.repeats} repeats, {s.dead_letters} dead letters, "
                f"{s.republished} republished, connected={s.connected}")

    try:
        run_until_signalled(listener.run, "commands-listen", progress, progress_every)
    finally:
        db.dispose()


if __name__ == "__main__":  # python -m services.central.commands.cli listen ...
    commands_app()
