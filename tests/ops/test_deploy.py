"""Deployment files: the compose file validates with Debian's docker-compose, has one edge per
camera of the store config, takes secrets from the environment only; the slim edge image's code
path never imports torch or central packages; the test broker keeps the shipped queue limits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge.config import load_store_config
from services.central.mqtt.local_broker import PRODUCTION_LIMITS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "docker" / "env.example"
STORE = ROOT / "config" / "stores" / "tokyo-01.yaml"


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is not installed: run `make ops-tools` (Debian package docker-compose)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    return subprocess.run([exe, "-f", str(COMPOSE), *args], capture_output=True, text=True, timeout=60,
                          env={**clean, **(env or {})}, cwd=ROOT)


def test_compose_file_validates_with_the_example_environment() -> None:
    r = compose("--env-file", str(ENV_EXAMPLE), "config")
    assert r.returncode == 0, r.stderr
    config = yaml.safe_load(r.stdout)
    assert {"postgres", "mosquitto", "central", "ingest-1", "ingest-2", "webhooks"} <= set(config["services"])
    ids = {s["environment"]["ANSHIN_MQTT_CLIENT_ID"] for n, s in config["services"].items() if n.startswith("ingest-")}
    assert len(ids) == 2, "each ingest worker needs its own stable MQTT client id"


def test_compose_runs_one_edge_per_camera_of_the_store_config() -> None:
    config = yaml.safe_load(compose("--env-file", str(ENV_EXAMPLE), "config").stdout)
    store = load_store_config(STORE)
    edges = {n: s for n, s in config["services"].items() if n.startswith("edge-")}
    cameras = sorted(s["command"][s["command"].index("--camera") + 1] for s in edges.values())
    assert cameras == sorted(store.cameras)
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for s in edges.values() for v in s["volumes"]]
    volumes = [m.split(":")[0] for m in mounts if ":/var/lib/anshin" in m]
    assert len(set(volumes)) == len(edges), "each edge keeps its own outbox volume"
    assert store.publisher == "mqtt" and store.mqtt.host == "mosquitto"


def test_compose_refuses_to_start_without_its_secrets_and_holds_none() -> None:
    r = compose("config")
    assert r.returncode != 0 and "ANSHIN_" in r.stderr
    text = COMPOSE.read_text()
    assert not re.search(r"(?i)(password|secret|key)\s*:\s*[A-Za-z0-9_-]{6,}\s*$", text, re.M), "a literal secret"


def test_broker_config_never_drops_queued_events_and_scopes_stores() -> None:
    conf = dict(line.split(None, 1) for line in (ROOT / "docker/mosquitto/mosquitto.conf").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    assert {k: conf[k] for k in PRODUCTION_LIMITS} == PRODUCTION_LIMITS
    assert conf["allow_anonymous"] == "false" and conf["persistence"] == "true"
    acl = (ROOT / "docker/mosquitto/acl").read_text()
    assert "pattern write anshin/v1/%u/#" in acl and "topic read anshin/v1/#" in acl


def test_config_check_prints_every_problem_with_path_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "store.yaml"
    bad.write_text(STORE.read_text().replace("publisher: mqtt", "publisher: carrier-pigeon")
                   .replace("capacity: 4", "capacity: 0").replace("url: mqtts://mosquitto:8883", "url: http://mosquitto"))
    r = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(bad)], capture_output=True, text=True,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ": line " in ln]
    paths = {re.search(r"line \d+ (\S+):", ln).group(1) for ln in lines}  # type: ignore[union-attr]
    assert {"publisher", "mqtt.url", "cameras.entrance.analyzers[0].zones.door.capacity"} <= paths, r.stderr
    ok = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(STORE)], capture_output=True, text=True,
                        timeout=60, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr


SLIM_BLOCKED = "torch,torchvision,ultralytics,fastapi,starlette,sqlalchemy,alembic,psycopg,uvicorn,prometheus_client,scipy,ai_edge_litert"
SLIM_PROBE = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {SLIM_BLOCKED.split(",")!r}:
            raise ImportError("the slim edge image has no " + name)
sys.meta_path.insert(0, Block())
import edge.__main__, edge.worker, edge.detectors.plugins.onnx, edge.publish.mqtt, edge.publish.http, edge.outbox
from edge.tracking import ByteTracker
from edge.tracking.config import TrackerConfig
ByteTracker(TrackerConfig())
print("slim ok")
"""


def test_the_slim_edge_image_code_path_needs_no_torch_and_no_central() -> None:
    r = subprocess.run([sys.executable, "-c", SLIM_PROBE], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0 and "slim ok" in r.stdout, r.stderr[-2000:]
    requirements = (ROOT / "docker/requirements-edge.txt").read_text()
    assert "torch" not in requirements.replace("no torch", "") and "opencv-python-headless" in requirements
