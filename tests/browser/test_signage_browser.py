"""Use case C in Chromium with fake camera and microphone: a store's signage and the remote staff
console, in separate browser contexts, set up a WebRTC call through central's signalling with media
flowing both ways (inbound RTP bytes > 0 on each side, from ``getStats()``); a second store's call
waits in the queue and is taken after the first is put on hold; a broadcast reaches two signage pages;
the held call is transferred to a colleague, who takes it; the customer continues it on a phone."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, STORE, LiveCentral, shot, sign_in

pytestmark = pytest.mark.browser

OTHER = "osaka-02"
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

#: Bytes received over inbound RTP (audio + video) of a peer connection.
INBOUND = """async (pc) => {
  if (!pc) return 0;
  let bytes = 0;
  (await pc.getStats()).forEach((r) => { if (r.type === "inbound-rtp") bytes += r.bytesReceived || 0; });
  return bytes;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:  # this module's chromium: fake camera and microphone, no permission prompt
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is missing: run `make browsers` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MEDIA, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def device_keys(central: LiveCentral) -> dict[str, str]:
    from services.central.auth import create_key
    from services.central.stores import set_profile

    with central.app.state.db.unit_of_work() as s:  # type: ignore[attr-defined]
        set_profile(s, OTHER, "standard", "JP", "Osaka 02", actor="test")
        return {store: create_key(s, f"signage-{store}", ["commands:device"], store, actor="test").secret
                for store in (STORE, OTHER)}


def _inbound(page, pc_expression: str) -> int:  # noqa: ANN001
    return int(page.evaluate(f"() => ({INBOUND})({pc_expression})"))


def _media_flows(signage, console, call_id: int, timeout_s: float = 20) -> tuple[int, int]:  # noqa: ANN001
    """Wait until both sides received RTP bytes on this call's connection; returns (signage, console) bytes."""
    deadline = time.monotonic() + timeout_s
    got = (0, 0)
    while time.monotonic() < deadline:
        got = (_inbound(signage, "window.anshinSignage.pc"),
               _inbound(console, f"(window.anshinConsole.pcs[{call_id}] || {{}}).pc"))
        if min(got) > 0:
            return got
        time.sleep(0.25)
    raise AssertionError(f"no media both ways on call {call_id}: inbound bytes (signage, console) = {got}")


def _open_signage(new_page, key: str, lang: str = "en"):  # noqa: ANN001, ANN202
    page = new_page(lang=lang)
    page.goto(f"/signage?lang={lang}#key={key}")
    page.locator("#talk").wait_for(state="visible")
    assert "#key=" not in page.url  # the secret leaves the address bar (and history) at once
    return page


def test_remote_service_call_hold_take_another_and_broadcast(new_page, central: LiveCentral, device_keys: dict[str, str]) -> None:  # noqa: ANN001
    tokyo = _open_signage(new_page, device_keys[STORE])
    osaka = _open_signage(new_page, device_keys[OTHER], lang="ja")
    assert osaka.locator("#talk").inner_text() == "スタッフと話す" and osaka.locator("#phone-qr").get_attribute("src").startswith("data:image/png")
    console = new_page()
    sign_in(console, "sato", next_path="/signage/console")

    # a call from Tokyo: the console sees it waiting with its store, takes it, media flows both ways
    tokyo.locator("#talk").click()
    tokyo.locator("#call-status").filter(has_text="Calling staff").wait_for()
    tokyo_call = int(tokyo.evaluate("() => window.anshinSignage.callId"))
    row = console.locator(f"#queue-rows tr[data-call-id='{tokyo_call}']")
    row.wait_for()
    assert row.locator("td").first.inner_text() == STORE
    row.get_by_role("button", name="Take").click()
    signage_bytes, console_bytes = _media_flows(tokyo, console, tokyo_call)
    tokyo.locator("#call-status").filter(has_text="You are talking to our staff").wait_for()

    # meanwhile Osaka calls: it waits in the queue; hold Tokyo, take Osaka, media flows there too
    osaka.locator("#talk").click()
    osaka.locator("#call-status").filter(has_text="スタッフを呼び出しています").wait_for()
    osaka_call = int(osaka.evaluate("() => window.anshinSignage.callId"))
    waiting = console.locator(f"#queue-rows tr[data-call-id='{osaka_call}']")
    waiting.wait_for()
    assert waiting.locator("td").first.inner_text() == OTHER
    console.locator(f"#mine-rows li[data-call-id='{tokyo_call}']").get_by_role("button", name="Hold").click()
    console.locator(f"#mine-rows li[data-call-id='{tokyo_call}'][data-state='held']").wait_for()
    tokyo.locator("#call-status").filter(has_text="On hold").wait_for()
    assert tokyo.evaluate("() => window.anshinSignage.pc") is None  # the held customer's media stopped
    waiting.get_by_role("button", name="Take").click()
    _media_flows(osaka, console, osaka_call)
    osaka.locator("#call-status").filter(has_text="スタッフとつながりました").wait_for()
    shot(console, "signage-console")
    shot(osaka, "signage-ja-call")

    # a product page pushed to the store being served: title and a QR code to continue on a phone
    console.locator("#push-store").select_option(OTHER)
    console.locator("#push-title").fill("Hand sanitiser 500 ml")
    console.locator("#push-url").fill("/floor-guide/osaka-02")
    console.get_by_role("button", name="Show").click()
    osaka.locator("#pushed-title").filter(has_text="Hand sanitiser 500 ml").wait_for()
    assert osaka.locator("#pushed-qr").get_attribute("src").startswith("data:image/png")
    assert tokyo.locator("#pushed").is_hidden()

    # one announcement to both stores' signage
    console.locator("#broadcast-form input[value='tokyo-01']").check()
    console.locator("#broadcast-form input[value='osaka-02']").check()
    console.locator("#broadcast-text").fill("Closing at 20:00 today")
    console.get_by_role("button", name="Broadcast").click()
    for page in (tokyo, osaka):
        page.locator("#announcement-text").filter(has_text="Closing at 20:00 today").wait_for()

    # Osaka's customer hangs up: handled; the console's figures show it
    osaka.locator("#hang-up").click()
    console.locator(f"#mine-rows li[data-call-id='{osaka_call}']").wait_for(state="detached")
    console.locator("#figure-rows tr", has_text=OTHER).filter(has=console.locator("td", has_text=re.compile("^1$"))).wait_for()
    assert signage_bytes > 0 and console_bytes > 0

    # the held Tokyo call goes to a colleague: it waits in suzuki's queue only, suzuki takes it and talks
    colleague = new_page(lang="ja")
    sign_in(colleague, "suzuki", next_path="/signage/console")
    console.locator("#transfer-to").select_option("suzuki")
    console.locator(f"#mine-rows li[data-call-id='{tokyo_call}']").get_by_role("button", name="Transfer").click()
    console.locator(f"#mine-rows li[data-call-id='{tokyo_call}']").wait_for(state="detached")
    handed = colleague.locator(f"#queue-rows tr[data-call-id='{tokyo_call}']")
    handed.get_by_role("button", name="応答").click()
    _media_flows(tokyo, colleague, tokyo_call)
    assert console.locator(f"#queue-rows tr[data-call-id='{tokyo_call}']").count() == 0

    # the customer continues on their phone (the QR code's one-time link): the display lets go, the
    # colleague's console offers again, media flows between the phone and the colleague
    link = tokyo.locator("#call-phone-qr").get_attribute("data-link")
    assert link and "/signage/phone#t=sgp_" in link
    phone = new_page(width=390, height=844)
    phone.goto(link)
    phone.locator("#call").wait_for(state="visible")
    tokyo.locator("#call-status").filter(has_text="The call continues on your phone").wait_for()
    _media_flows(phone, colleague, tokyo_call)
    shot(phone, "signage-phone")
