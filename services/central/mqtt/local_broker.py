"""A throwaway Mosquitto with the limits of the shipped ``docker/mosquitto/mosquitto.conf``:
used by ``anshin bench ingest`` and the resilience tests (restartable, on a free port).

Mosquitto's *default* queue limit (1000 messages per session) drops messages silently once an
ingest worker falls that far behind (seen here on 2.0.11: with acks flowing, the broker keeps
far fewer than Receive Maximum in flight). The shipped config raises it; this broker does too,
so benchmarks and tests measure the configuration an operator deploys.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The queueing limits of docker/mosquitto/mosquitto.conf (a test checks they match).
PRODUCTION_LIMITS = {
    "max_queued_messages": "1000000",
    "max_queued_bytes": "0",
    "max_inflight_messages": "0",
    "message_size_limit": "1048576",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """Files of a TLS listener (PEM), e.g. from ``docker/mosquitto/make-certs.sh``. Mosquitto started
    as root reads them as user mosquitto: they and their folder must be readable by it."""

    ca_file: Path
    cert_file: Path
    key_file: Path


class LocalBroker:
    """``with LocalBroker() as b: ... b.url ... b.restart()``; persistence in a temporary folder.

    Args:
        passwd_file, acl_file: enable authentication (anonymous otherwise).
        autosave_interval_s: how often the in-memory store is saved (also saved on a clean stop).
        tls: also listen with TLS on ``tls_port`` (127.0.0.1), as the shipped config does on 8883.
    """

    def __init__(self, passwd_file: Path | None = None, acl_file: Path | None = None,
                 autosave_interval_s: int = 1, tls: BrokerTls | None = None) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.exe = exe
        self.dir = Path(tempfile.mkdtemp(prefix="anshin-mosquitto-"))
        self.port = _free_port()
        self.tls_port = _free_port() if tls else None
        auth = (f"allow_anonymous false\npassword_file {passwd_file}\nacl_file {acl_file}\n"
                if passwd_file else "allow_anonymous true\n")
        limits = "".join(f"{k} {v}\n" for k, v in PRODUCTION_LIMITS.items())
        secure = (f"listener {self.tls_port} 127.0.0.1\ncafile {tls.ca_file}\ncertfile {tls.cert_file}\n"
                  f"keyfile {tls.key_file}\ntls_version tlsv1.2\n" if tls else "")
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n{secure}{auth}persistence true\npersistence_location {self.dir}/\n"
            f"autosave_interval {autosave_interval_s}\n{limits}persistent_client_expiration 1d\n"
            f"log_dest file {self.dir}/mosquitto.log\nlog_type all\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        """``mqtts://localhost:<tls_port>`` (a name the broker's certificate holds); only with ``tls``."""
        if self.tls_port is None:
            raise RuntimeError("this broker has no TLS listener (LocalBroker(tls=BrokerTls(...)))")
        return f"mqtts://localhost:{self.tls_port}"

    def start(self, timeout_s: float = 10.0) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}; log: {self.log()[-1000:]}")
            try:
                for port in (self.port, self.tls_port):
                    if port is not None:
                        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                            pass
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout_s} s")

    def stop(self) -> None:
        """Clean stop (SIGTERM): Mosquitto saves its persistent store first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """A crash (SIGKILL): Mosquitto does not save; whatever it held since its last autosave is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def log(self) -> str:
        path = self.dir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
