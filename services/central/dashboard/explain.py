"""An event's explanation as rows a person reads: the rule in plain words, thresholds, measured
values, model, scores. Built from the stored contract JSON, so it explains exactly what the edge sent.

>>> from services.central.dashboard.i18n import Translator
>>> e = explain({"rule": "occupancy_over_capacity", "summary": "5 people in zone 'plaza'",
...              "thresholds": {"capacity": 3.0}, "measured": {"count": 5.0},
...              "model": {"name": "yolov8n", "version": "8.4"}}, {"scores": {"mean_person_score": 0.71}}, Translator("en"))
>>> e.rule_text
'More people stayed in the zone than its capacity allows, for several frames in a row.'
>>> e.thresholds, e.measured, e.model, e.scores
([('Capacity (people)', '3')], [('People counted', '5')], 'yolov8n 8.4', [('Mean person detector score', '0.71')])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from services.central.dashboard.i18n import Translator


@dataclass(frozen=True, slots=True)
class Explained:
    rule: str
    rule_text: str  # the rule in plain words; the edge's own summary when the rule is unknown
    summary: str  # the edge's one sentence (English, from the device)
    thresholds: list[tuple[str, str]] = field(default_factory=list)
    measured: list[tuple[str, str]] = field(default_factory=list)
    model: str | None = None
    scores: list[tuple[str, str]] = field(default_factory=list)


def number(value: Any) -> str:
    """Numbers as people read them: no trailing ``.0``, at most three decimals. Any number a
    JSON column can hold renders (huge, infinite, NaN), so one odd value never breaks a page.

    >>> number(3.0), number(37.456), number(0.5), number("x")
    ('3', '37.456', '0.5', 'x')
    >>> number(10**400), number(float("inf")), number(1e300), number(-2**60)
    ('1.000e+400', 'inf', '1e+300', '-1.152e+18')
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        # str() of a huge int is slow (or refused past 4300 digits); float() of it overflows.
        return str(value) if abs(value) < 10**15 else _scientific(value)
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e15:
        return f"{value:.4g}"
    if value.is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _scientific(value: int) -> str:
    """A huge int as ``d.ddde+N`` without converting it to float (which may overflow)."""
    digits = value.bit_length() * 30103 // 100000  # log10(2) ≈ 0.30103: a close lower bound
    exponent = max(digits - 4, 0)
    head = abs(value) // 10**exponent
    while head >= 10**4:
        head //= 10
        exponent += 1
    text = str(head)
    sign = "-" if value < 0 else ""
    return f"{sign}{text[0]}.{text[1:]}e+{exponent + len(text) - 1}"


def _rows(values: dict[str, Any] | None, t: Translator) -> list[tuple[str, str]]:
    return [(t.value_label(k), number(v)) for k, v in (values or {}).items()]


def explain(explanation: dict[str, Any] | None, evidence: dict[str, Any] | None, t: Translator) -> Explained:
    exp = explanation or {}
    rule = str(exp.get("rule", ""))
    summary = str(exp.get("summary", ""))
    key = f"rule.{rule}"
    rule_text = t(key) if t.has(key) else (summary or rule)
    model = exp.get("model")
    model_text = f"{model.get('name', '')} {model.get('version', '')}".strip() if isinstance(model, dict) else None
    return Explained(
        rule=rule,
        rule_text=rule_text,
        summary=summary,
        thresholds=_rows(exp.get("thresholds"), t),
        measured=_rows(exp.get("measured"), t),
        model=model_text or None,
        scores=_rows((evidence or {}).get("scores"), t),
    )


def payload_rows(payload: dict[str, Any], t: Translator, explanation: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """Flat payload values worth showing: nested objects and polygons are left out, and so are
    values the explanation already lists as thresholds or measured."""
    shown = set((explanation or {}).get("measured", {})) | set((explanation or {}).get("thresholds", {}))
    return [(t.value_label(k), number(v)) for k, v in payload.items()
            if k not in shown and isinstance(v, (str, int, float)) and not isinstance(v, bool)]
