"""Browser tests: the real central app under uvicorn (SQLite in a temp folder) driven by
Debian's chromium through Playwright for Python. Screenshots go to ``artifacts/screenshots/``.

Chromium comes from apt (``make browsers``); Playwright's own browser download does not work
here, so the browser is launched by path.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.central.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
PASSWORD = "browser-test-pass-1"
STORE = "tokyo-01"

pytestmark = pytest.mark.browser


@dataclass
class LiveCentral:
    url: str
    settings: Settings
    app: object
    edge_key: str

    def post_events(self, *events: object) -> list[str]:
        body = [e.model_dump(mode="json") for e in events]  # type: ignore[attr-defined]
        r = httpx.post(f"{self.url}/api/v1/events", json=body, headers={"Authorization": f"Bearer {self.edge_key}"}, timeout=10)
        r.raise_for_status()
        return r.json()["stored"]

    def upload_snapshot(self, jpeg: bytes, camera: str, kind: str = "evidence") -> str:
        r = httpx.post(f"{self.url}/api/v1/snapshots", content=jpeg,
                       params={"store_id": STORE, "camera_id": camera, "kind": kind},
                       headers={"Authorization": f"Bearer {self.edge_key}", "Content-Type": "image/jpeg"}, timeout=10)
        r.raise_for_status()
        return str(r.json()["snapshot_ref"])


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCentral]:
    import uvicorn

    from anshin.demo import free_port
    from services.central.api.app import create_app
    from services.central.auth import create_key
    from services.central.stores import set_profile
    from services.central.users.service import create_user

    data = tmp_path_factory.mktemp("central")
    settings = Settings(data_dir=data, review_deadlines_s={"entrance.fever_suspected": 300})
    app = create_app(settings)
    with app.state.db.unit_of_work() as s:  # type: ignore[attr-defined]
        for name, role in (("sato", "staff"), ("suzuki", "staff"), ("takahashi", "manager"), ("ito", "auditor")):
            create_user(s, name, PASSWORD, role, actor="test")
        set_profile(s, STORE, "standard", "JP", "Tokyo 01", actor="test")
        key = create_key(s, "edge-tokyo", ["events:write", "events:read"], STORE, actor="test").secret
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "central did not start"
        time.sleep(0.05)
    yield LiveCentral(f"http://127.0.0.1:{port}", settings, app, key)
    server.should_exit = True
    thread.join(timeout=15)
    app.state.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running meanwhile
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: run `make browsers` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser, central: LiveCentral) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """``new_page(lang="en", js=True)`` → a page in a fresh context (its own cookies)."""
    contexts = []

    def make(lang: str = "en", js: bool = True, width: int = 1024, height: int = 768, storage_state=None):  # noqa: ANN001, ANN202
        ctx = browser.new_context(base_url=central.url, viewport={"width": width, "height": height},
                                  java_script_enabled=js, storage_state=storage_state, locale="en-GB")
        ctx.set_default_timeout(10_000)
        if lang:
            host = central.url.split("//")[1].split(":")[0]
            ctx.add_cookies([{"name": "anshin_lang", "value": lang, "domain": host, "path": "/"}])
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def sign_in(page, name: str, password: str = PASSWORD, next_path: str = "/queue") -> None:  # noqa: ANN001
    page.goto(f"/login?next={next_path}")
    page.get_by_label(re.compile("User name|ユーザー名")).fill(name)
    page.get_by_label(re.compile("Password|パスワード")).fill(password)
    page.get_by_role("button", name=re.compile("Sign in|サインイン")).click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0]) + r"(\?.*)?$"))


def wait_until(page, check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:  # noqa: ANN001
    """Poll ``check`` from Python until it holds. Playwright's ``wait_for_function`` polls with ``eval``
    inside the page, which our Content-Security-Policy (script-src 'self') forbids: it fails whenever the
    condition is not already true at the first look."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(100)


def shot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
