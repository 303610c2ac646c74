"""The exit gate's passage tracker and sender without the face model: boxes in, passages out;
transient failures retried under the same exit id, a refusal not retried."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import numpy as np

from edge.sources.video import Backoff
from edge.usecases.checkout.gate import ExitSender, GateSettings, PassageTracker, exit_id_for

T0 = datetime(2026, 11, 30, tzinfo=timezone.utc)
FRAME = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)


def box(x: int, y: int = 200, side: int = 100) -> tuple[int, int, int, int]:
    return (y, x + side, y + side, x)


def feed(tracker: PassageTracker, frames: list[list[tuple[int, int, int, int]]], fps: float = 10) -> list:
    ended = []
    for i, boxes in enumerate(frames):
        ended += tracker.update(FRAME, boxes, T0 + timedelta(seconds=i / fps), i)
    return ended + tracker.flush()


def tracker(**kw: Any) -> PassageTracker:
    return PassageTracker(GateSettings(**kw), exit_id_for("exit-1", "/v/gate.avi", True))


def test_a_walk_across_the_frame_is_one_passage_two_people_side_by_side_are_two() -> None:
    walk = [[box(20 + 50 * i)] for i in range(10)]
    (one,) = feed(tracker(), walk)
    assert one.frames == 10 and one.exit_id.endswith("-f000000.0")
    pair = [[box(20 + 30 * i), box(400 + 20 * i)] for i in range(8)]
    two = feed(tracker(), pair)
    assert sorted(p.frames for p in two) == [8, 8] and len({p.exit_id for p in two}) == 2


def test_a_gap_longer_than_max_gap_starts_a_new_passage_and_a_single_frame_is_noise() -> None:
    frames = [[box(100)]] * 5 + [[]] * 15 + [[box(110)]] * 5 + [[]] * 15 + [[box(300)]]
    ended = feed(tracker(max_gap_s=1.0, min_frames=2), frames)
    assert [p.frames for p in ended] == [5, 5]  # the lone detection at the end sent nothing
    assert [p.exit_id.rsplit("-", 1)[1] for p in ended] == ["f000000.0", "f000020.0"]


def test_only_the_best_frames_are_kept_as_crops() -> None:
    sizes = [60, 80, 140, 100, 120]
    (p,) = feed(tracker(candidates=2), [[box(100, side=s)] for s in sizes])
    assert len(p.candidates) == 2
    assert sorted(c.crop.shape[0] for c in p.candidates) == sorted(int(s * 2.2) for s in (120, 140))  # the two largest faces


class Answers:
    """A central that answers each exit with the next queued reply (an exception is raised)."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies, self.exit_ids = replies, []

    def post(self, path: str, json: dict, headers: dict) -> httpx.Response:  # noqa: A002 - httpx's name
        self.exit_ids.append(json["exit_id"])
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def observation() -> Any:
    from edge.usecases.checkout.client import ExitObservation
    from edge.usecases.checkout.faces import FaceEmbedding
    from edge.usecases.checkout.liveness import LivenessCue

    v = np.ones(128, np.float32) / np.sqrt(128)
    return ExitObservation(FaceEmbedding(v, (0, 100, 100, 0), 100, 0.1), LivenessCue(0.01, 20.0))


def test_the_sender_retries_transient_failures_with_the_same_exit_id_and_not_a_refusal() -> None:
    from edge.usecases.checkout.client import CheckoutClient

    central = Answers([httpx.ConnectError("refused"), httpx.Response(502, json={"detail": "provider"}),
                       httpx.Response(200, json={"outcome": "charged", "member_id": "m1"}),
                       httpx.Response(409, json={"detail": "store profile is 'standard'"})])
    sleeps: list[float] = []
    sender = ExitSender(CheckoutClient("", "k", "s1", http=central), "exit-1", backoff=Backoff(1.0, 2.0, 0), sleep=sleeps.append)
    sender.submit("exit-1-a", observation())
    sender.submit("exit-1-b", observation())
    assert sender.close(drain_timeout_s=10) == 0
    assert central.exit_ids == ["exit-1-a"] * 3 + ["exit-1-b"]
    assert sleeps == [1.0, 2.0] and sender.stats.retries == 2
    assert sender.stats.outcomes == {"charged": 1} and sender.stats.refused == 1


def test_the_gate_command_refuses_a_store_without_the_identified_profile_and_a_missing_key(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from anshin.checkout_demo import checkout_app
    from edge.paths import media_dir

    video = media_dir() / "pets2009_vtest_480x360.mp4"
    yaml = tmp_path / "store.yaml"
    runner = CliRunner()
    monkeypatch.delenv("GATE_KEY", raising=False)
    for profile, expect in (("standard", "privacy profile 'standard'"), ("identified", "GATE_KEY")):
        yaml.write_text(f"store_id: s1\nprivacy_profile: {profile}\ncentral: {{url: 'http://127.0.0.1:9', api_key_env: GATE_KEY}}\n"
                        f"cameras:\n  exit-1: {{source: '{video}'}}\n")
        out = runner.invoke(checkout_app, ["gate", "--config", str(yaml), "--camera", "exit-1"])
        assert out.exit_code == 2 and expect in out.output, out.output
    monkeypatch.setenv("GATE_KEY", "ank_test")
    out = runner.invoke(checkout_app, ["gate", "--config", str(yaml), "--camera", "exit-1", "--max-frames", "2", "--drain-timeout", "0"])
    assert out.exit_code == 0, out.output
    assert '"frames": 2' in out.output and '"passages": 0' in out.output


def test_an_unexpected_answer_does_not_stop_the_exits_after_it() -> None:
    from edge.usecases.checkout.client import CheckoutClient

    central = Answers([httpx.Response(200, text="<html>proxy error</html>"), httpx.Response(200, json={"outcome": "ignored"})])
    sender = ExitSender(CheckoutClient("", "k", "s1", http=central), "exit-1", sleep=lambda s: None)
    sender.submit("exit-1-a", observation())
    sender.submit("exit-1-b", observation())
    assert sender.close(drain_timeout_s=10) == 0
    assert central.exit_ids == ["exit-1-a", "exit-1-b"] and sender.stats.outcomes == {"ignored": 1} and sender.stats.refused == 1
