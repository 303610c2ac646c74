"""Basket analysis: association rules (support, confidence, lift) and cross-sell placements.

mlxtend's FP-growth finds the frequent itemsets of the one-hot basket matrix; a rule A -> B says
baskets with A also hold B with ``confidence`` = P(B | A), ``lift`` = confidence / P(B) (above 1:
bought together more often than by chance). A placement proposal puts B where A is shelved, and
its expected effect is the rule's confidence and lift, measured on the baskets given.

>>> baskets = {"t1": {"tea", "cake"}, "t2": {"tea", "cake"}, "t3": {"tea"}, "t4": {"bread"}}
>>> r = rules(baskets, min_support=0.4, min_confidence=0.5)[0]
>>> (r.antecedent, r.consequent, r.support, round(r.confidence, 3), round(r.lift, 3))
(('cake',), ('tea',), 0.5, 1.0, 1.333)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Rule:
    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    support: float
    confidence: float
    lift: float
    baskets: int  # baskets holding both sides

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Placement:
    """Shelve ``place`` next to ``near``: ``expected_confidence`` of buyers of ``near`` bought it."""

    near: str
    place: str
    expected_confidence: float
    lift: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rules(baskets: Mapping[str, set[str]], min_support: float = 0.01, min_confidence: float = 0.1,
          max_len: int = 3, top: int = 50) -> list[Rule]:
    """Rules with lift > 1 from ``baskets`` (basket id -> items), best lift first."""
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    if not baskets:
        return []
    items = sorted({i for b in baskets.values() for i in b})
    col = {item: n for n, item in enumerate(items)}
    values = np.zeros((len(baskets), len(items)), dtype=bool)
    for row, b in enumerate(baskets.values()):
        for i in b:
            values[row, col[i]] = True
    matrix = pd.DataFrame(values, columns=items)
    frequent = fpgrowth(matrix, min_support=min_support, use_colnames=True, max_len=max_len)
    if frequent.empty:
        return []
    found = association_rules(frequent, metric="confidence", min_threshold=min_confidence)
    found = found[found["lift"] > 1.0].sort_values(["lift", "confidence", "support"], ascending=False, kind="stable")
    n = len(baskets)
    out = [Rule(tuple(sorted(r.antecedents)), tuple(sorted(r.consequents)), float(r.support), float(r.confidence),
                float(r.lift), round(float(r.support) * n)) for r in found.itertuples()]
    # Stable order for equal figures: by names.
    out.sort(key=lambda r: (-round(r.lift, 9), -round(r.confidence, 9), r.antecedent, r.consequent))
    return out[:top]


def placements(found: list[Rule], limit: int = 5) -> list[Placement]:
    """Cross-sell placements from single-item rules, one per pair of items (the direction with the
    higher confidence), best lift first."""
    best: dict[frozenset[str], Rule] = {}
    for r in found:
        if len(r.antecedent) != 1 or len(r.consequent) != 1:
            continue
        pair = frozenset((r.antecedent[0], r.consequent[0]))
        if pair not in best or r.confidence > best[pair].confidence:
            best[pair] = r
    out: list[Placement] = []
    for r in sorted(best.values(), key=lambda r: (-round(r.lift, 9), -round(r.confidence, 9), r.antecedent)):
        out.append(Placement(r.antecedent[0], r.consequent[0], r.confidence, r.lift))
        if len(out) >= limit:
            break
    return out
