"""Property-based API tests from the OpenAPI spec (schemathesis, in-process ASGI, admin key):
no operation answers 5xx to anything, and none accepts (2xx) input the spec says is invalid."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.generation import GenerationMode

from .conftest import bearer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: "Invalid" components we accept on purpose: unknown query parameters are ignored (tolerant
#: reader, so integrators' extra parameters never break them), and the Authorization header is
#: supplied by this test, so a case "without" it is really sent with a valid key.
TOLERATED = ("query: violates `additionalProperties`", "header: violates `required` (was Authorization)")

EXAMPLES = 15  # per operation and mode: bounded, so the whole file stays well under a minute


def _describe(exc: BaseException) -> str:
    parts = [str(exc)]
    for sub in getattr(exc, "exceptions", ()):
        parts.append(_describe(sub))
    return "\n".join(parts)


def _only_tolerated(text: str) -> bool:
    """An accepted-negative-data failure whose every invalid component is one we tolerate."""
    if "Schema-violating request accepted" not in text or "Server error" in text:
        return False
    components = [ln.strip()[2:] for ln in text.splitlines() if ln.strip().startswith("- ") and ": violates" in ln]
    return bool(components) and all(c in TOLERATED for c in components)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid input", "invalid input"])
def test_no_5xx_and_no_accepted_invalid_input(app, key, mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(key("schemathesis", "admin"))
    # /openapi.json is not served by default (ANSHIN_OPENAPI_PUBLIC): the document comes from the app
    # in-process, through JSON as a client would read it, and the calls go to the same app
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(app.openapi())))
    schema.app = app
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith("/api/") or op.path in ("/metrics", "/healthz", "/readyz")]
    assert len(operations) >= 15
    checks = [not_a_server_error] + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    failures: list[str] = []

    for op in operations:
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # noqa: BLE001 - the in-process client re-raises what would be a 500
                failures.append(f"{op.method.upper()} {case.formatted_path}: server error {type(exc).__name__}: {str(exc)[:300]}")
                return
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every failure, report all
                text = _describe(exc)
                if not _only_tolerated(text):
                    failures.append(f"{op.method.upper()} {case.formatted_path}: {response.status_code} {text[:600]}")

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, op.path  # an operation without inputs has no invalid input
    assert not failures, "\n".join(failures[:20])
