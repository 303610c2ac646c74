"""Use case I on the edge: the shelf analyzer with the fine-tuned gap detector on real shelf photos
(held-out photos of media/empty_shelf, never trained on): a gap is raised once it is stable over
frames, with evidence; a segment a person stands in front of is not judged; the next photo with the
row full refills it. Events fit the contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from edge.detections import Detections
from edge.paths import media_dir
from edge.usecases.base import FrameContext
from edge.usecases.shelf.analyzer import ShelfAnalyzer
from edge.usecases.shelf.config import ShelfAnalyzerConfig
from edge.usecases.shelf.gaps.dataset import held_out, source_photo
from edge.usecases.shelf.gaps.detectors import GAP_WEIGHTS, LearnedGapDetector
from services.contract.registry import validate_event_payload

IMAGES = media_dir() / "empty_shelf" / "images"
GAP_PHOTO = "1-60_jpg.rf.c10df01e87efb00528285a1c0971d233.jpg"  # labelled gaps over half the middle row
FULL_PHOTO = "1-114_jpg.rf.3ab7cc4d81454b678d062ec6a33168f7.jpg"  # middle row labelled (almost) full
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.skipif(not GAP_WEIGHTS.is_file() or not IMAGES.is_dir(), reason="weights or photos missing")


@pytest.fixture(scope="module")
def detector() -> LearnedGapDetector:
    return LearnedGapDetector(conf=0.45)


def config() -> ShelfAnalyzerConfig:
    return ShelfAnalyzerConfig(interval_s=1, min_frames=2, segments={
        "middle-row": {"sku": "repellent-spray", "facings": 10, "capacity": 40,
                       "polygon": [[0.0, 0.35], [1.0, 0.35], [1.0, 0.65], [0.0, 0.65]]}})


def frame(name: str) -> np.ndarray:
    image = cv2.imread(str(IMAGES / name))
    assert image is not None, name
    return image


def run(analyzer: ShelfAnalyzer, image: np.ndarray, second: int, people: Detections | None = None):  # noqa: ANN201
    ctx = FrameContext("demo-store", "shelf-1", T0 + timedelta(seconds=second), (image.shape[1], image.shape[0]), frame=image)
    events = list(analyzer.update(people or Detections.empty(), ctx))
    return events, ctx


def test_the_demo_photos_are_held_out_from_training() -> None:
    assert held_out(source_photo(GAP_PHOTO)) and held_out(source_photo(FULL_PHOTO))


def test_a_stable_gap_is_raised_once_with_evidence_and_refilled_by_the_next_photo(detector) -> None:  # noqa: ANN001
    analyzer = ShelfAnalyzer(config(), {}, detector=detector)
    gap, full = frame(GAP_PHOTO), frame(FULL_PHOTO)
    assert run(analyzer, gap, 0)[0] == []  # one analysis is not yet stable
    events, ctx = run(analyzer, gap, 1)
    assert [e.type for e in events] == ["shelf.gap"]
    event = events[0]
    validate_event_payload(event)
    assert event.payload["gap_fraction"] >= 0.15 and event.payload["units_missing"] >= 6
    assert event.evidence is not None and event.evidence.boxes and ctx.evidence_for(event) is not None
    assert run(analyzer, gap, 2)[0] == []  # once per gap
    assert run(analyzer, full, 3)[0] == []  # a refill must be stable too
    events, _ = run(analyzer, full, 4)
    assert [e.type for e in events] == ["shelf.refilled"] and events[0].payload["gap_for_s"] == 3.0
    validate_event_payload(events[0])


def test_a_segment_hidden_by_a_person_is_not_a_gap(detector) -> None:  # noqa: ANN001
    analyzer = ShelfAnalyzer(config(), {}, detector=detector)
    gap = frame(GAP_PHOTO)
    h, w = gap.shape[:2]
    person = Detections(xyxy=[[0.2 * w, 0.1 * h, 0.7 * w, 1.0 * h]], score=[0.9], class_id=[0], tracker_id=[7])
    for second in range(4):
        assert run(analyzer, gap, second, person)[0] == []
    assert analyzer.live_state()["segments"]["middle-row"]["hidden"] is True
    assert [e.type for e in run(analyzer, gap, 4)[0]] == []  # the first clear view starts the count
    assert [e.type for e in run(analyzer, gap, 5)[0]] == ["shelf.gap"]


def test_a_restarted_worker_does_not_raise_an_open_gap_again(detector) -> None:  # noqa: ANN001
    before = ShelfAnalyzer(config(), {}, detector=detector)
    gap, full = frame(GAP_PHOTO), frame(FULL_PHOTO)
    run(before, gap, 0)
    assert [e.type for e in run(before, gap, 1)[0]] == ["shelf.gap"]
    after = ShelfAnalyzer(config(), {}, detector=detector)  # the worker restarts with the saved state
    after.restore_state(before.durable_state())
    assert run(after, gap, 10)[0] == [] and run(after, gap, 11)[0] == []  # still the same gap: no second notice
    run(after, full, 12)
    events, _ = run(after, full, 13)
    assert [e.type for e in events] == ["shelf.refilled"] and events[0].payload["gap_for_s"] == 12.0
