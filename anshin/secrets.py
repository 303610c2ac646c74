"""``anshin secrets generate|check``: the deployment's ``.env`` with strong random values, and
the check that no placeholder of ``docker/env.example`` is left (the compose stack runs it first).

The file holds the variables ``docker-compose.yml`` reads: the PostgreSQL password, the webhook
master key, central's broker password and one broker password per store. API keys are not in
it: central makes them (``anshin keys create``, only its sha256 is stored), and only stores with
``publisher: http`` need one (``ANSHIN_EDGE_KEY_<STORE>``, a commented line to fill in).

>>> text = env_text(["tokyo-01", "osaka-02"], models_dir="/srv/models")
>>> values = parse_env(text)
>>> sorted(values)  # doctest: +NORMALIZE_WHITESPACE
['ANSHIN_CHECKOUT_MASTER_KEY', 'ANSHIN_MODELS_DIR', 'ANSHIN_MQTT_CENTRAL_PASSWORD', 'ANSHIN_MQTT_PASSWORD_OSAKA_02', 'ANSHIN_MQTT_PASSWORD_TOKYO_01',
 'ANSHIN_POSTGRES_PASSWORD', 'ANSHIN_WEBHOOK_SECRET_KEY']
>>> len(values["ANSHIN_WEBHOOK_SECRET_KEY"]) >= 32, values["ANSHIN_POSTGRES_PASSWORD"] != values["ANSHIN_MQTT_CENTRAL_PASSWORD"]
(True, True)
>>> placeholder_variables(values)
[]
>>> store_variable("ANSHIN_MQTT_PASSWORD", "tokyo-01")
'ANSHIN_MQTT_PASSWORD_TOKYO_01'
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from services.shared.placeholders import placeholder_variables

secrets_app = typer.Typer(help="Deployment secrets: a fresh .env, and the check for placeholders.", no_args_is_help=True)

STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: url-safe characters: no quoting needed in .env, a database URL or mosquitto_passwd
PASSWORD_BYTES = 24  # 32 characters
MASTER_KEY_BYTES = 48  # 64 characters; the webhook master key needs 32 or more


def store_variable(prefix: str, store_id: str) -> str:
    """The per-store variable name compose reads, e.g. ANSHIN_MQTT_PASSWORD_TOKYO_01."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', store_id).upper()}"


def env_text(stores: Iterable[str], models_dir: str) -> str:
    """A complete ``.env`` with fresh random secrets (``secrets.token_urlsafe``)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Written by `anshin secrets generate` on {stamp}. Never commit it; keep it mode 0600.",
        f"ANSHIN_POSTGRES_PASSWORD={secrets.token_urlsafe(PASSWORD_BYTES)}",
        f"ANSHIN_WEBHOOK_SECRET_KEY={secrets.token_urlsafe(MASTER_KEY_BYTES)}",
        "# use case E (face checkout): wraps each member's template key; losing it makes every template unreadable",
        f"ANSHIN_CHECKOUT_MASTER_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode('ascii')}",
        f"ANSHIN_MQTT_CENTRAL_PASSWORD={secrets.token_urlsafe(PASSWORD_BYTES)}",
    ]
    for store in stores:
        lines += [
            f"# store {store}: its broker user's password (docker/mosquitto/make-passwd.sh {store})",
            f"{store_variable('ANSHIN_MQTT_PASSWORD', store)}={secrets.token_urlsafe(PASSWORD_BYTES)}",
            f"# only with `publisher: http`: `docker-compose run --rm central keys create --name edge-{store} "
            f"--scope events:write --store {store}`, then paste the printed secret:",
            f"# {store_variable('ANSHIN_EDGE_KEY', store)}=",
        ]
    lines += ["# Folder holding the model files; mounted read-only at /models.", f"ANSHIN_MODELS_DIR={models_dir}"]
    return "\n".join(lines) + "\n"


def parse_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines as docker-compose reads them (comments and blank lines skipped, one
    layer of matching quotes removed)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@secrets_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write")] = Path(".env"),
    stores: Annotated[str, typer.Option("--stores", help="comma-separated store ids: one broker password each")] = "tokyo-01",
    models_dir: Annotated[str, typer.Option("--models-dir", help="ANSHIN_MODELS_DIR")] = "../shared/data/models",
    force: Annotated[bool, typer.Option("--force", help="replace an existing file (its secrets are lost)")] = False,
) -> None:
    """Write a fresh .env (mode 0600) with strong random secrets; refuses to overwrite without --force."""
    ids = [s.strip() for s in stores.split(",") if s.strip()]
    bad = [s for s in ids if not STORE_ID.fullmatch(s)]
    if not ids or bad:
        typer.secho(f"error: --stores needs store ids (letters, digits, - and _); got {stores!r}", err=True, fg="red")
        raise typer.Exit(2)
    if out.exists() and not force:
        typer.secho(f"error: {out} exists; its secrets are in use (pass --force to replace them)", err=True, fg="red")
        raise typer.Exit(1)
    text = env_text(ids, models_dir)
    # created 0600 (never readable by others, not even for a moment); an existing file is cut and re-moded
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    typer.echo(f"wrote {out} (mode 0600): {len(parse_env(text)) - 1} secrets for store(s) {', '.join(ids)}", err=True)


@secrets_app.command("check")
def check(
    env_file: Annotated[Optional[Path], typer.Option("--env-file", help="a .env file; default: this process's environment")] = None,  # noqa: UP045
) -> None:
    """Exit 1 naming every ANSHIN_* variable that still holds a placeholder of docker/env.example."""
    if env_file is not None:
        if not env_file.is_file():
            typer.secho(f"error: no file {env_file}", err=True, fg="red")
            raise typer.Exit(2)
        values: Mapping[str, str] = parse_env(env_file.read_text())
        where = str(env_file)
    else:
        values, where = os.environ, "the environment"
    found = placeholder_variables(values)
    if found:
        for name in found:
            typer.secho(f"{name}: still the placeholder of docker/env.example; set {name} to a real secret",
                        err=True, fg="red")
        typer.secho(f"{len(found)} placeholder(s) in {where}; `anshin secrets generate` writes a fresh .env",
                    err=True, fg="red")
        raise typer.Exit(1)
    checked = sum(1 for k in values if k.startswith("ANSHIN_"))
    typer.echo(f"secrets: no placeholder in {where} ({checked} ANSHIN_ variables checked)")
