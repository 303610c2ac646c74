"""``anshin ingest mqtt``: a central MQTT ingest worker (run several; they share the load)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

ingest_app = typer.Typer(help="Central ingest workers.", no_args_is_help=True)


@ingest_app.callback()
def _group() -> None:
    """Central ingest workers (HTTP ingest runs inside `anshin serve`)."""


@ingest_app.command("mqtt")
def ingest_mqtt(
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="default: ANSHIN_DATABASE_URL")] = None,  # noqa: UP045
    mqtt_url: Annotated[Optional[str], typer.Option("--mqtt-url", help="default: ANSHIN_MQTT_URL or mqtt://127.0.0.1:1883")] = None,  # noqa: UP045
    client_id: Annotated[Optional[str], typer.Option("--client-id", help="stable per worker; default: ANSHIN_MQTT_CLIENT_ID or anshin-ingest-<hostname>")] = None,  # noqa: UP045
    progress_every: Annotated[float, typer.Option("--progress-every", min=0.5, help="seconds between progress lines")] = 30.0,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="bring the schema to the latest migration first")] = True,
) -> None:
    """Subscribe to $share/<group>/anshin/v1/# and store events idempotently; after each commit,
    PUBACK the broker and acknowledge the stored ids to each edge on anshin/v1/<store>/<camera>/_ack.

    Broker credentials come from ANSHIN_MQTT_USERNAME / ANSHIN_MQTT_PASSWORD only; with an mqtts:// URL
    the broker's certificate is verified against ANSHIN_MQTT_CA_FILE (else the system's CAs).
    Evidence pictures (anshin/v1/<store>/<camera>/_blob/<sha256>) are stored as snapshots.
    """
    from services.central.background import run_until_signalled, settings_or_exit
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.mqtt.settings import MqttSettings
    from services.central.mqtt.worker import MqttIngestWorker
    from services.contract.logs import configure_logging

    configure_logging()
    settings = settings_or_exit(database_url)
    overrides = {k: v for k, v in (("url", mqtt_url), ("client_id", client_id)) if v}
    mqtt_settings = MqttSettings(**overrides)  # type: ignore[arg-type]
    db = Database.from_settings(settings)
    if migrate:
        upgrade(db.engine)
    worker = MqttIngestWorker(db, settings, mqtt_settings)
    typer.echo(f"ingest {mqtt_settings.client_id}: {mqtt_settings.url} {mqtt_settings.subscription} → "
               f"{db.engine.url.render_as_string(hide_password=True)}", err=True)

    def progress() -> str:
        s = worker.stats
        return (f"ingest: {s.messages} messages, {s.stored} stored, {s.duplicates} duplicates, "
                f"{s.pictures} pictures, {s.dead_letters} dead letters, {s.db_retries} db retries, {s.acks_sent} acks to edges, "
                f"connected={s.connected}")

    try:
        run_until_signalled(worker.run, "mqtt-ingest", progress, progress_every)
    finally:
        db.dispose()


if __name__ == "__main__":  # python -m services.central.mqtt.cli mqtt ... (used by benchmarks and tests)
    ingest_app()
