"""Placeholder secrets are refused, naming the variable to set: by ``anshin secrets check`` (the
compose stack's first service, which every other service waits for), by central (``anshin
serve``, ``create_app``, ``anshin ingest mqtt``) and by the edge (API key, broker password).
``anshin secrets generate`` writes a fresh ``.env`` (mode 0600) that passes the same check and
never overwrites one without ``--force``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from anshin.secrets import parse_env, secrets_app
from edge.config import CentralConfig, MissingApiKeyError
from edge.publish.config import MqttConfig
from services.central.api.app import create_app
from services.central.settings import Settings
from services.shared.placeholders import PlaceholderSecretError

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "docker" / "env.example"
COMPOSE = ROOT / "docker-compose.yml"
EDGE_KEY_PLACEHOLDER = "ank_paste-the-printed-secret-here"  # the commented line of env.example

#: env.example's secrets: everything but the models folder
EXAMPLE = parse_env(ENV_EXAMPLE.read_text())
SECRETS = sorted(k for k in EXAMPLE if k != "ANSHIN_MODELS_DIR")

runner = CliRunner()
ANSHIN = [sys.executable, "-c", "from anshin.cli import app; app()"]  # the `anshin` command, in this venv


def clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("ANSHIN_", "PROMETHEUS_"))}, **extra}


def compose_config(env_file: Path) -> dict:  # type: ignore[type-arg]
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: run `make ops-tools` (Debian package docker-compose)")
    r = subprocess.run([exe, "-f", str(COMPOSE), "--env-file", str(env_file), "config"], capture_output=True, text=True,
                       timeout=60, env=clean_env(), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)  # type: ignore[no-any-return]


def test_the_example_holds_only_placeholders_and_the_check_names_each(tmp_path: Path) -> None:
    assert len(SECRETS) >= 4, EXAMPLE
    r = runner.invoke(secrets_app, ["check", "--env-file", str(ENV_EXAMPLE)])
    assert r.exit_code == 1
    named = {line.split(":")[0] for line in r.output.splitlines() if line.startswith("ANSHIN_")}
    assert named == set(SECRETS), r.output
    assert "set ANSHIN_POSTGRES_PASSWORD to a real secret" in r.output


def test_the_stack_runs_the_check_first_and_everything_waits_for_it(tmp_path: Path) -> None:
    config = compose_config(ENV_EXAMPLE)
    services = config["services"]
    check = services["secrets-check"]
    assert check["command"] == ["secrets", "check"] and check.get("restart") == "no"
    assert set(SECRETS) <= set(check["environment"]), "the check must see every secret of the example"
    for name, service in services.items():
        if name != "secrets-check":
            assert service["depends_on"]["secrets-check"] == {"condition": "service_completed_successfully"}, name
    # what that container would do with the example's values: exit 1, naming each variable
    env = {k: str(v) for k, v in check["environment"].items()}
    r = subprocess.run([*ANSHIN, "secrets", "check"], capture_output=True, text=True, timeout=60,
                       env=clean_env(**env), cwd=ROOT)
    assert r.returncode == 1 and all(f"{k}: still the placeholder" in r.stderr for k in SECRETS), r.stderr


def test_generate_writes_a_0600_file_that_passes_the_check_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / ".env"
    r = runner.invoke(secrets_app, ["generate", "--out", str(out), "--stores", "tokyo-01,osaka-02"])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = parse_env(out.read_text())
    assert set(SECRETS) <= set(values) and "ANSHIN_MQTT_PASSWORD_OSAKA_02" in values
    assert len(set(values[k] for k in SECRETS)) == len(SECRETS), "every secret its own value"
    assert all(len(values[k]) >= 32 for k in SECRETS)
    assert runner.invoke(secrets_app, ["check", "--env-file", str(out)]).exit_code == 0
    # the compose stack takes it, and its check passes on exactly what the container would get
    env = {k: str(v) for k, v in compose_config(out)["services"]["secrets-check"]["environment"].items()}
    r = subprocess.run([*ANSHIN, "secrets", "check"], capture_output=True, text=True, timeout=60,
                       env=clean_env(**env), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert Settings(webhook_secret_key=values["ANSHIN_WEBHOOK_SECRET_KEY"]).webhook_secret_key is not None

    before = out.read_text()
    again = runner.invoke(secrets_app, ["generate", "--out", str(out)])
    assert again.exit_code == 1 and "--force" in again.output and out.read_text() == before
    out.chmod(0o644)
    forced = runner.invoke(secrets_app, ["generate", "--out", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text() != before
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_generate_refuses_bad_store_ids(tmp_path: Path) -> None:
    r = runner.invoke(secrets_app, ["generate", "--out", str(tmp_path / ".env"), "--stores", "tokyo 01"])
    assert r.exit_code == 2 and not (tmp_path / ".env").exists()


def test_central_settings_refuse_placeholders_naming_the_variable(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="set ANSHIN_WEBHOOK_SECRET_KEY to a real secret"):
        create_app(Settings(data_dir=tmp_path, webhook_secret_key=EXAMPLE["ANSHIN_WEBHOOK_SECRET_KEY"]))  # type: ignore[arg-type]
    url = f"postgresql+psycopg://anshin:{EXAMPLE['ANSHIN_POSTGRES_PASSWORD']}@127.0.0.1:5432/anshin"
    with pytest.raises(ValidationError, match="set ANSHIN_DATABASE_URL to a real secret"):
        Settings(database_url=url)
    monkeypatch.setenv("ANSHIN_COMMANDS_PASSWORD", "change-me-commands")  # any ANSHIN_ variable of the process
    with pytest.raises(ValidationError, match="set ANSHIN_COMMANDS_PASSWORD to a real secret"):
        Settings(data_dir=tmp_path)


@pytest.mark.parametrize(("command", "variable", "value"), [
    pytest.param(["serve"], "ANSHIN_WEBHOOK_SECRET_KEY", EXAMPLE["ANSHIN_WEBHOOK_SECRET_KEY"], id="serve"),
    pytest.param(["ingest", "mqtt"], "ANSHIN_MQTT_PASSWORD", EXAMPLE["ANSHIN_MQTT_CENTRAL_PASSWORD"],
                 id="ingest mqtt"),
    pytest.param(["commands", "listen", "--mqtt-url", "mqtt://127.0.0.1:1"], "ANSHIN_COMMANDS_PASSWORD",
                 "change-me-commands", id="commands listen"),
])
def test_central_processes_refuse_to_start(tmp_path: Path, command: list[str], variable: str, value: str) -> None:
    r = subprocess.run([*ANSHIN, *command], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env=clean_env(ANSHIN_DATA_DIR=str(tmp_path), **{variable: value}))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert f"set {variable} to a real secret" in r.stderr.replace("\n", " ").replace("  ", " "), r.stderr[-2000:]
    assert not (tmp_path / "central.db").exists(), "refused before touching the database"


def test_the_edge_refuses_a_placeholder_key_and_broker_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSHIN_EDGE_KEY", EDGE_KEY_PLACEHOLDER)
    with pytest.raises(MissingApiKeyError, match="ANSHIN_EDGE_KEY .*placeholder"):
        CentralConfig().api_key()
    monkeypatch.setenv("ANSHIN_EDGE_KEY", "ank_" + "A" * 43)
    assert CentralConfig().api_key() == "ank_" + "A" * 43
    monkeypatch.setenv("ANSHIN_MQTT_PASSWORD", EXAMPLE["ANSHIN_MQTT_PASSWORD_TOKYO_01"])
    with pytest.raises(PlaceholderSecretError, match="set ANSHIN_MQTT_PASSWORD to a real secret"):
        MqttConfig().password()
    monkeypatch.setenv("ANSHIN_MQTT_PASSWORD", "s3cret-from-anshin-secrets-generate")
    assert MqttConfig().password() == "s3cret-from-anshin-secrets-generate"


def test_an_edge_process_refuses_to_start(tmp_path: Path) -> None:
    """The store of docker-compose.yml, its broker password left at the example's placeholder."""
    r = subprocess.run([sys.executable, "-m", "edge", "edge", "run", "--config", "config/stores/tokyo-01.yaml",
                        "--camera", "entrance", "--max-frames", "1"], capture_output=True, text=True, timeout=60,
                       cwd=ROOT, env=clean_env(ANSHIN_MQTT_PASSWORD=EXAMPLE["ANSHIN_MQTT_PASSWORD_TOKYO_01"]))
    assert r.returncode == 2 and "set ANSHIN_MQTT_PASSWORD to a real secret" in r.stderr, r.stderr[-2000:]
