"""Central's use-case seam: each use case brings its labels, reasons, templates and routes, and the
app, the dashboard's translator and the review reasons collect them from one list."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.central.api.app import create_app
from services.central.dashboard import i18n
from services.central.dashboard.web import TEMPLATES
from services.central.review.reasons import DISMISS_REASONS
from services.central.settings import Settings
from services.central.usecases import USE_CASES, merge_messages, messages, template_dirs
from services.central.usecases.base import CentralUseCase
from services.contract import UseCase
from services.contract.registry import EVENT_TYPES


def test_every_registered_event_type_has_labels_from_its_use_case() -> None:
    # One letter may have several central folders (F: occupancy, lines, comfort): one of them labels it.
    for name, declared in EVENT_TYPES.items():
        owners = [u for u in USE_CASES if u.use_case == declared.use_case]
        assert owners, f"{name}: use case {declared.use_case} has no central side"
        assert any(f"type.{name}" in u.messages for u in owners), f"{name}: no label in {[u.name for u in owners]}"
    for key, (en, ja) in i18n.CATALOGUE.items():
        assert en and ja, key


def test_generic_strings_stay_generic() -> None:
    """i18n keeps UI strings; event types, rules, values and use-case reasons live with their use case."""
    assert not [k for k in i18n.MESSAGES if k.startswith(("type.", "rule.", "value.", "store.", "stores."))]
    assert {"reason.people_together", "reason.measurement_disturbed", "reason.clinical_check_normal"}.isdisjoint(i18n.MESSAGES)
    assert set(messages()) <= set(i18n.CATALOGUE)


def test_dismissal_reasons_keep_their_order_and_labels() -> None:
    assert DISMISS_REASONS == ("detector_error", "people_together", "measurement_disturbed", "clinical_check_normal",
                               "behaviour_loitering__waiting", "behaviour_loitering__working",
                               "behaviour_restricted_zone__authorised", "behaviour_restricted_zone__did_not_enter",
                               "behaviour_exit_without_checkout__nothing_taken",
                               "behaviour_exit_without_checkout__paid_elsewhere", "behaviour_repeated_returns__choosing",
                               "behaviour_pose_cue__handling",
                               "already_handled", "duplicate", "other")
    for language in ("en", "ja"):
        t = i18n.Translator(language)
        assert all(t.has(f"reason.{r}") for r in DISMISS_REASONS)


def test_a_use_case_cannot_redefine_a_generic_string_or_leave_a_reason_unlabelled() -> None:
    with pytest.raises(ValueError, match="redefine generic dashboard messages: \\['store.title'\\]"):
        merge_messages({"store.title": ("x", "x")})
    with pytest.raises(ValueError, match="dismissal reasons without a label: \\['cat_on_camera'\\]"):
        CentralUseCase(name="x", use_case=UseCase.H, dismiss_reasons=("cat_on_camera",))


def test_use_case_templates_are_found_by_the_dashboard() -> None:
    assert Path(template_dirs()[0]).name == "templates" and (template_dirs()[0] / "store.html").is_file()
    for name in ("store.html", "_store_live.html", "stores.html", "base.html"):
        assert TEMPLATES.env.get_template(name) is not None


def test_use_case_routes_are_mounted(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "var"))
    try:
        assert "/api/v1/stores/{store_id}/occupancy" in app.openapi()["paths"]
        with TestClient(app) as client:
            r = client.get("/stores/tokyo-01", follow_redirects=False)  # a dashboard page: sign in first
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
    finally:
        app.state.db.dispose()
