"""Use case C's deployment: coturn in docker-compose (opt-in profile ``turn``, after the secrets
check), its config without any secret, its start script refusing an empty or placeholder secret,
and central given the same secret for short-lived TURN credentials."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COTURN = ROOT / "docker" / "coturn"


def compose_config(*args: str) -> dict:  # type: ignore[type-arg]
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: run `make ops-tools` (Debian package docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    r = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(ROOT / "docker/env.example"), *args,
                        "config"], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)  # type: ignore[no-any-return]


def test_coturn_is_an_opt_in_service_after_the_secrets_check() -> None:
    services = compose_config("--profile", "turn")["services"]
    turn = services["coturn"]
    assert turn["profiles"] == ["turn"]  # `docker-compose up` without --profile turn leaves it out
    assert turn["depends_on"]["secrets-check"] == {"condition": "service_completed_successfully"}
    assert turn["entrypoint"] == ["/bin/sh", "/etc/coturn/start.sh"]
    assert {(p["target"], p["protocol"]) for p in turn["ports"]} >= {(3478, "udp"), (3478, "tcp"), (49160, "udp")}
    mounts = {v.split(":")[1]: v for v in turn["volumes"]}  # host:container:ro
    assert mounts["/etc/coturn/turnserver.conf"].endswith(":ro") and mounts["/etc/coturn/start.sh"].endswith(":ro")
    # central hands the pages ICE servers and derives TURN credentials from the same secret
    assert {"ANSHIN_SIGNAGE_ICE_SERVERS", "ANSHIN_SIGNAGE_TURN_SECRET"} <= set(services["central"]["environment"])


def test_the_coturn_config_holds_no_secret_and_uses_short_lived_credentials() -> None:
    lines = [ln.strip() for ln in (COTURN / "turnserver.conf").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert "use-auth-secret" in lines and not any(ln.startswith(("static-auth-secret", "user=", "lt-cred-mech")) for ln in lines)
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in lines and "denied-peer-ip=10.0.0.0-10.255.255.255" in lines


@pytest.mark.parametrize("secret", ["", "change-me-turn"])
def test_the_start_script_refuses_a_missing_or_placeholder_secret(tmp_path: Path, secret: str) -> None:
    r = subprocess.run(["sh", str(COTURN / "start.sh")], capture_output=True, text=True, timeout=30,
                       env={"PATH": os.environ["PATH"], "ANSHIN_TURN_SECRET": secret})
    assert r.returncode == 1 and "ANSHIN_TURN_SECRET" in r.stderr


def test_the_start_script_passes_the_secret_in_a_private_file(tmp_path: Path) -> None:
    # turnserver itself is not installed here: a stand-in prints the config file it was given
    fake = tmp_path / "bin" / "turnserver"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n[ "$1" = "-c" ] && stat -c %a "$2" && cat "$2"\n')
    fake.chmod(0o755)
    run_conf = tmp_path / "run.conf"
    r = subprocess.run(["sh", str(COTURN / "start.sh")], capture_output=True, text=True, timeout=30, env={
        "PATH": f"{fake.parent}:{os.environ['PATH']}", "ANSHIN_TURN_SECRET": "a-real-random-secret",
        "ANSHIN_TURN_EXTERNAL_IP": "203.0.113.10", "ANSHIN_TURN_CONF": str(COTURN / "turnserver.conf"),
        "ANSHIN_TURN_RUN_CONF": str(run_conf)})
    assert r.returncode == 0, r.stderr
    mode, *conf = r.stdout.splitlines()
    assert mode == "600" and stat.S_IMODE(run_conf.stat().st_mode) == 0o600
    assert "static-auth-secret=a-real-random-secret" in conf and "external-ip=203.0.113.10" in conf and "use-auth-secret" in conf
    assert "a-real-random-secret" not in (COTURN / "turnserver.conf").read_text()
