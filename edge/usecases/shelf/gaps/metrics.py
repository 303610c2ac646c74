"""Detection scores for empty-shelf boxes: precision, recall and F1 at one confidence, and AP.

Predictions are matched to truth greedily by descending score (each truth at most once, at IoU at
least ``iou``), as VOC/COCO do. AP is the area under the all-point interpolated precision/recall
curve over every prediction of every image.

>>> import numpy as np
>>> truth = [np.array([[0, 0, 10, 10]], float)]
>>> preds = [(np.array([[0, 0, 10, 9], [50, 50, 60, 60]], float), np.array([0.9, 0.8]))]
>>> s = score(truth, preds, iou=0.5, conf=0.5)
>>> (s.tp, s.fp, s.fn, s.f1, round(s.ap, 3))
(1, 1, 0, 0.667, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.shared.boxes import box_iou


def match(truth: np.ndarray, boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """For each prediction (in the given order), whether it matched an unmatched truth box."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    hit = np.zeros(len(order), dtype=bool)
    if len(truth) == 0 or len(order) == 0:
        return hit
    overlaps = box_iou(boxes, truth)
    taken = np.zeros(len(truth), dtype=bool)
    for k in order:
        candidates = np.where(~taken & (overlaps[k] >= iou))[0]
        if len(candidates):
            best = candidates[np.argmax(overlaps[k, candidates])]
            taken[best], hit[k] = True, True
    return hit


@dataclass(frozen=True)
class Scores:
    """Counts and figures of one evaluation at one IoU."""

    iou: float
    conf: float
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    ap: float

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "ap": round(self.ap, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "iou": self.iou, "conf": self.conf}


def average_precision(hits: np.ndarray, scores: np.ndarray, n_truth: int) -> float:
    """All-point interpolated AP of predictions pooled over images."""
    if n_truth == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(hits[order])
    fp = np.cumsum(~hits[order])
    recall = tp / n_truth
    precision = tp / np.maximum(tp + fp, 1)
    r = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def score(truth: Sequence[np.ndarray], predictions: Sequence[tuple[np.ndarray, np.ndarray]], iou: float,
          conf: float) -> Scores:
    """Score predictions ``(boxes, scores)`` per image against truth boxes per image."""
    all_hits, all_scores, n_truth = [], [], 0
    tp = fp = 0
    for gt, (boxes, s) in zip(truth, predictions, strict=True):
        s = np.asarray(s, float)
        n_truth += len(gt)
        hits = match(gt, boxes, s, iou)
        all_hits.append(hits)
        all_scores.append(s)
        keep = s >= conf
        kept = match(gt, np.asarray(boxes).reshape(-1, 4)[keep], s[keep], iou)
        tp += int(kept.sum())
        fp += int((~kept).sum())
    fn = n_truth - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hits = np.concatenate(all_hits) if all_hits else np.zeros(0, bool)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    return Scores(iou, conf, tp, fp, fn, round(precision, 4), round(recall, 4), round(f1, 3),
                  average_precision(hits, scores, n_truth))
