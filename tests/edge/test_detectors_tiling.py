"""Sliced inference: tiles cover the frame, duplicates across tiles merge, small people are found."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from edge.detections import Detections
from edge.detectors import create_detector
from edge.detectors.config import OnnxDetectorConfig, TilingConfig
from edge.detectors.tiling import TiledDetector, merge_duplicates, tile_windows
from edge.paths import media_dir


@pytest.mark.parametrize(("w", "h", "rows", "cols", "overlap"), [
    pytest.param(640, 480, 2, 2, 0.25, id="mall 2x2"),
    pytest.param(640, 480, 3, 3, 0.25, id="mall 3x3"),
    pytest.param(1080, 810, 1, 3, 0.0, id="no overlap"),
    pytest.param(101, 67, 4, 3, 0.5, id="odd sizes"),
])
def test_tiles_cover_the_frame_and_overlap_as_asked(w, h, rows, cols, overlap):
    tiles = tile_windows(w, h, rows, cols, overlap)
    assert len(tiles) == rows * cols
    covered = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    x0, _, x1, _ = tiles[0]
    if cols > 1:
        shared = x1 - tiles[1][0]
        assert shared == pytest.approx(overlap * (x1 - x0), abs=1)


def dets(*rows: tuple[float, float, float, float, float]) -> Detections:
    a = np.array(rows, np.float32).reshape(-1, 5)
    return Detections(a[:, :4], a[:, 4], np.zeros(len(a), np.int64))


@pytest.mark.parametrize(("metric", "kept"), [
    pytest.param("ios", [0.9], id="IoS: a cut-off part inside a whole person is dropped"),
    pytest.param("iou", [0.9, 0.8], id="IoU: the part is too small to match"),
])
def test_merge_drops_parts_cut_at_tile_edges(metric, kept):
    whole_and_part = dets((100, 100, 140, 220, 0.9), (100, 100, 140, 150, 0.8))
    assert merge_duplicates(whole_and_part, metric, 0.6).score.tolist() == pytest.approx(kept)


def test_tiled_detector_does_not_duplicate_people_on_bus():
    plain = create_detector(OnnxDetectorConfig())
    tiled = TiledDetector(plain, TilingConfig(rows=2, cols=2))
    frame = cv2.imread(str(media_dir() / "bus.jpg"))
    assert len(tiled.detect(frame)) == len(plain.detect(frame)) == 4


def test_tiles_find_more_of_a_crowd_than_the_whole_frame():
    whole_det = create_detector(OnnxDetectorConfig())
    tiled_det = create_detector(OnnxDetectorConfig(tiles=TilingConfig(rows=2, cols=2)))
    truth = json.loads((media_dir() / "mall_dev" / "truth.json").read_text())
    whole = tiled = true = 0
    for name in ("seq_000001.jpg", "seq_000601.jpg", "seq_001198.jpg"):
        frame = cv2.imread(str(media_dir() / "mall_dev" / name))
        found = tiled_det.detect(frame)
        assert (found.xyxy[:, 2] <= 640).all() and (found.xyxy[:, 3] <= 480).all()
        whole, tiled, true = whole + len(whole_det.detect(frame)), tiled + len(found), true + truth[name]["count"]
    # Mall's distant shoppers are 15-30 px tall: tiles give them ~1.75x the network pixels.
    assert whole + 5 <= tiled < true, (whole, tiled, true)


def test_tiles_on_two_threads_find_the_same_boxes():
    frame = cv2.imread(str(media_dir() / "mall_dev" / "seq_000601.jpg"))
    one = create_detector(OnnxDetectorConfig(tiles=TilingConfig(rows=2, cols=2))).detect(frame)
    two = create_detector(OnnxDetectorConfig(tiles=TilingConfig(rows=2, cols=2, workers=2))).detect(frame)
    assert len(one) > 10
    np.testing.assert_array_equal(one.xyxy, two.xyxy)
    np.testing.assert_array_equal(one.score, two.score)
