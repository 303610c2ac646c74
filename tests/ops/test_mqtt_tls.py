"""MQTT over TLS: certificates from docker/mosquitto/make-certs.sh, a broker of the test's own
with a TLS listener, an edge publisher → ingest worker delivery over mqtts:// with end-to-end
acknowledgements, and clients that do not trust the broker's CA refused. Also: the shipped
Mosquitto config starts with its TLS listener and keeps plaintext on localhost."""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.outbox import Outbox
from edge.publish.config import MqttConfig
from edge.publish.mqtt import MqttPublisher
from services.central.mqtt.local_broker import PRODUCTION_LIMITS, BrokerTls, LocalBroker
from services.central.mqtt.settings import MqttSettings
from services.central.mqtt.worker import MqttIngestWorker

from .conftest import occupancy, stored_ids, stored_mentions, subscribe_and_wait, wait_until

pytestmark = [pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
MAKE_CERTS = ROOT / "docker" / "mosquitto" / "make-certs.sh"


def make_certs(host: str = "mosquitto") -> Path:
    """Run the shipped script into a fresh folder the mosquitto user can read (Mosquitto started as
    root reads its files as user mosquitto; pytest's tmp_path is private)."""
    folder = Path(tempfile.mkdtemp(prefix="anshin-certs-"))
    folder.chmod(0o755)
    r = subprocess.run(["sh", str(MAKE_CERTS), host, str(folder)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "created private CA" in r.stderr and f"for {host}, localhost, 127.0.0.1" in r.stderr, r.stderr
    return folder


@pytest.fixture(scope="module")
def certs() -> Iterator[Path]:
    folder = make_certs()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def other_ca() -> Iterator[Path]:
    """A second, unrelated private CA: clients trusting only it must not accept our broker."""
    folder = make_certs()
    yield folder / "ca.crt"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def broker(certs: Path) -> Iterator[LocalBroker]:
    tls = BrokerTls(certs / "ca.crt", certs / "server.crt", certs / "server.key")
    with LocalBroker(tls=tls) as b:
        yield b


def test_the_script_makes_a_ca_and_a_broker_certificate_for_the_host_it_is_given() -> None:
    certs = make_certs()
    try:
        _check_script_output(certs)
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def _check_script_output(certs: Path) -> None:
    text = subprocess.run(["openssl", "x509", "-in", str(certs / "server.crt"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:mosquitto" in text and "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(certs / "ca.crt"), str(certs / "server.crt")],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    assert (certs / "ca.key").stat().st_mode & 0o077 == 0, "the CA's key must be private"
    # Run again (e.g. for another host name): the CA is kept, so clients' ca.crt stays valid.
    ca_before = (certs / "ca.crt").read_bytes()
    r = subprocess.run(["sh", str(MAKE_CERTS), "broker.example", str(certs)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "reusing private CA" in r.stderr, r.stderr
    assert (certs / "ca.crt").read_bytes() == ca_before
    text = subprocess.run(["openssl", "x509", "-in", str(certs / "server.crt"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:broker.example" in text


def test_edge_to_ingest_over_mqtts_stores_each_event_once_with_end_to_end_acks(
        broker: LocalBroker, certs: Path, settings, db, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tag = secrets.token_hex(4)
    store = f"tls-{tag}"
    ms = MqttSettings(url=broker.tls_url, ca_file=certs / "ca.crt", client_id=f"tls-ingest-{tag}",
                      share_group=f"tls-{tag}", session_expiry_s=60, batch_wait_ms=20)
    assert ms.tls and ms.port == broker.tls_port
    worker = MqttIngestWorker(db, settings, ms)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    events = [occupancy(store, "cam-1", i) for i in range(120)]
    try:
        assert worker.wait_subscribed(10), "ingest worker did not subscribe over TLS"
        cfg = MqttConfig(url=broker.tls_url, ca_file=certs / "ca.crt", batch_size=50)
        with Outbox(tmp_path / "outbox.sqlite") as box:
            box.append(events)
            publisher = MqttPublisher(box, cfg.host, cfg.port, f"tls-edge-{tag}", tls=cfg.tls, ca_file=cfg.ca_file,
                                      batch_size=cfg.batch_size, session_expiry_s=60)
            try:
                assert publisher.url.startswith("mqtts://localhost:")
                assert publisher.wait_connected(10), "edge did not connect over TLS"
                # Empty only after central's DeliveryAck on .../_ack, which came back over TLS too.
                assert publisher.flush(30) and box.depth() == 0
            finally:
                publisher.close()
        assert wait_until(lambda: len(stored_ids(db, store)) == len(events), 10)
        assert sorted(stored_ids(db, store)) == sorted(str(e.event_id) for e in events)
        assert stored_mentions(pg_url, {str(e.event_id) for e in events}) == len(events)
        assert worker.stats.stored == len(events) and worker.stats.acks_sent >= 1
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(broker: LocalBroker, other_ca: Path,
                                                                 tmp_path: Path) -> None:
    # A plain client: the TLS handshake itself fails on the certificate.
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-wrong-{secrets.token_hex(3)}", protocol=mqtt.MQTTv5)
    c.tls_set_context(ssl.create_default_context(cafile=str(other_ca)))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        c.connect("localhost", broker.tls_port or 0)
    # The system's CAs do not know a private CA either: verification is on by default.
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-system-{secrets.token_hex(3)}", protocol=mqtt.MQTTv5)
    c.tls_set_context(MqttSettings(url=broker.tls_url).tls_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        c.connect("localhost", broker.tls_port or 0)
    # The edge publisher with the wrong CA never connects, and keeps its events.
    with Outbox(tmp_path / "outbox.sqlite") as box:
        box.append([occupancy("tls-wrong")])
        publisher = MqttPublisher(box, "localhost", broker.tls_port or 0, f"tls-wrong-edge-{secrets.token_hex(3)}",
                                  tls=True, ca_file=other_ca, retry_initial_s=0.05, retry_max_s=0.1)
        try:
            assert not publisher.wait_connected(2)
            assert not publisher.flush(1) and box.depth() == 1
        finally:
            publisher.close()


def test_an_unreadable_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot read the CA certificate file .*missing\.crt \(ca_file\)"):
        MqttPublisher(Outbox(tmp_path / "o.sqlite"), "localhost", 8883, "x", tls=True, ca_file=tmp_path / "missing.crt")
    with pytest.raises(ValueError, match="cannot read the CA certificate file"):
        MqttSettings(url="mqtts://broker", ca_file=tmp_path / "missing.crt").tls_context()


def _listeners(conf: str) -> list[tuple[str, dict[str, str]]]:
    """``[(port and address, its settings)]`` of a Mosquitto config, comments skipped."""
    found: list[tuple[str, dict[str, str]]] = []
    for line in conf.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        if key == "listener":
            found.append((value, {}))
        elif found and key in ("cafile", "certfile", "keyfile", "tls_version"):
            found[-1][1][key] = value
    return found


def test_the_shipped_config_listens_with_tls_and_keeps_plaintext_on_localhost(certs: Path) -> None:
    conf = (ROOT / "docker" / "mosquitto" / "mosquitto.conf").read_text()
    listeners = dict(_listeners(conf))
    assert set(listeners) == {"8883 0.0.0.0", "1883 127.0.0.1"}
    assert {"cafile", "certfile", "keyfile"} <= set(listeners["8883 0.0.0.0"])
    assert not listeners["1883 127.0.0.1"], "the plaintext listener has no TLS files"
    assert "# listener 1883 0.0.0.0" in conf, "the opt-in line for plaintext on the network is documented"
    # Start it as shipped, with its paths moved into a temporary folder and free ports.
    folder = Path(tempfile.mkdtemp(prefix="anshin-shipped-"))
    folder.chmod(0o755)
    try:
        ports = []
        for _ in range(2):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports.append(s.getsockname()[1])
        passwd = folder / "passwd"
        passwd.touch()
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), "tokyo-01", "pw"], check=True, capture_output=True)
        passwd.chmod(0o644)
        acl = Path(shutil.copy(ROOT / "docker" / "mosquitto" / "acl", folder / "acl"))
        acl.chmod(0o644)
        local = (conf.replace("/mosquitto/certs/", f"{certs}/").replace("/mosquitto/config/", f"{folder}/")
                 .replace("/mosquitto/data/", f"{folder}/")
                 .replace("listener 8883 0.0.0.0", f"listener {ports[0]} 127.0.0.1")
                 .replace("listener 1883 127.0.0.1", f"listener {ports[1]} 127.0.0.1"))
        local = re.sub(r"^log_dest .*$", f"log_dest file {folder}/mosquitto.log", local, flags=re.M)
        for key, value in PRODUCTION_LIMITS.items():
            assert f"{key} {value}" in local
        (folder / "mosquitto.conf").write_text(local)
        (folder / "mosquitto.conf").chmod(0o644)
        proc = subprocess.Popen(["mosquitto", "-c", str(folder / "mosquitto.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            connected = threading.Event()
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="shipped-tls", protocol=mqtt.MQTTv5)
            c.username_pw_set("tokyo-01", "pw")
            c.tls_set_context(ssl.create_default_context(cafile=str(certs / "ca.crt")))
            c.on_connect = lambda *a: connected.set() if not getattr(a[3], "is_failure", True) else None

            def up() -> bool:
                try:
                    c.connect("localhost", ports[0])
                    return True
                except OSError:
                    return False

            assert wait_until(up, 10), (folder / "mosquitto.log").read_text() if (folder / "mosquitto.log").exists() else ""
            c.loop_start()
            assert connected.wait(5), "the store's user could not sign in over the shipped TLS listener"
            c.disconnect()
            c.loop_stop()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_commands_go_to_devices_over_mqtts(broker: LocalBroker, certs: Path) -> None:
    """Central's command publisher takes mqtts:// and ANSHIN_COMMANDS_CA_FILE like ingest does."""
    from datetime import datetime, timedelta, timezone

    from services.central.commands.mqtt import publish_commands
    from services.central.commands.settings import CommandSettings
    from services.contract.commands import Command, command_topic

    now = datetime.now(timezone.utc)
    command = Command(store_id="tls-store", device_id="ahu-1", action="hvac.boost", issued_by="test",
                      issued_at=now, expires_at=now + timedelta(minutes=5))
    got: list[bytes] = []
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-device-{secrets.token_hex(3)}", protocol=mqtt.MQTTv5)
    device.tls_set_context(ssl.create_default_context(cafile=str(certs / "ca.crt")))
    device.on_message = lambda _c, _u, m: got.append(bytes(m.payload))
    device.connect("localhost", broker.tls_port or 0)
    device.loop_start()
    try:
        subscribe_and_wait(device, command_topic("tls-store", "ahu-1"))
        settings = CommandSettings(mqtt_url=broker.tls_url, ca_file=certs / "ca.crt")
        assert settings.tls and publish_commands(settings, [command]) == [command.command_id]
        assert wait_until(lambda: got != [], 5)
        assert Command.model_validate_json(got[0]).command_id == command.command_id
    finally:
        device.disconnect()
        device.loop_stop()
