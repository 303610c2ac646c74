"""``anshin checkout demo`` end to end on real photos with the real face model (dlib via
face_recognition), central over HTTP and the fake payment provider: the member is charged once
although the exit is delivered twice, the unknown face adds no row and no file, the phone-photo
exit becomes a review item, and nothing is stored without consent."""

from __future__ import annotations

from pathlib import Path

import pytest

from anshin.checkout_demo import run_checkout_demo
from edge.paths import media_dir

pytestmark = pytest.mark.skipif(not (media_dir() / "face_recognition_examples").is_dir(), reason="shared data not present")


def test_checkout_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ANSHIN_CHECKOUT_MASTER_KEY", "ANSHIN_CHECKOUT_PROVIDER_URL", "ANSHIN_CHECKOUT_PROVIDER_KEY"):
        monkeypatch.delenv(var, raising=False)  # restored after the test (the demo sets them for its run)
    s = run_checkout_demo(tmp_path / "var")
    assert s["without_consent"] == {"status": 422, "rows_added": 0}
    member = s["members"]["obama"]
    exit_ = s["member_exit"]
    assert exit_["first"]["outcome"] == "charged" and exit_["first"]["member_id"] == member
    assert exit_["redelivered"]["replayed"] and exit_["redelivered"]["charge_id"] == exit_["first"]["charge_id"]
    assert exit_["charges_at_provider"] == 1 and exit_["charged_yen"] == exit_["basket_yen"] == 480
    assert s["unknown_face"]["answer"]["outcome"] == "ignored"
    assert s["unknown_face"]["rows_added"] == 0 and s["unknown_face"]["files_changed"] == []
    doubtful = s["doubtful_exit"]
    assert doubtful["answer"]["outcome"] == "review" and doubtful["answer"]["member_id"] == member
    assert doubtful["answer"]["reason"] == "liveness" and doubtful["review_item"] is not None
    assert doubtful["charges_at_provider"] == 1  # nothing more was charged
    assert s["erasure"]["status"] == 200 and s["erasure"]["template_readable"] is False
    assert s["erasure"]["audit_chain_ok"] is True and s["erasure"]["audit_entries"] > 0
