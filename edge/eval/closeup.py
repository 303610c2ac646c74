"""A close-up view of a labelled video: people nearer the camera than any labelled one, with truth.

A camera's labelled frames show people at the sizes they had then; later, someone walks right past
the lens. ``anshin eval track --zoom Z`` scores that case on the labels there are: every frame is
cropped to 1/Z of its width and height around where the labelled people walk, and scaled back up,
so each person is Z times taller. The truth boxes go through the same crop and scale; a box the
crop cuts to less than :data:`MIN_VISIBLE` of itself is ignored (as MOTChallenge's flag 0: neither a
miss nor a false alarm), one cut away entirely is dropped.

It is a proxy, not unseen footage: the people, backgrounds and paths are those of the labelled
frames, only larger, blurrier (upsampled) and faster in pixels. Near people also walk out of the
crop and back more often than in the full view, which lowers IDF1 for every detector alike, so
compare settings with one another on it, not with full-view figures.

>>> truth = {1: FrameTruth(np.array([1, 2]), np.array([[30.0, 20, 40, 50], [90, 70, 100, 80]]), np.array([False, False]))}
>>> view = CloseUp.around(truth, width=100, height=80, zoom=2.0)  # a 50 x 40 crop around person 1
>>> view.origin
(8.0, 16.0)
>>> t = view.truth(truth)[1]  # person 1 twice as tall, person 2 outside the crop
>>> t.ids.tolist(), t.xyxy.tolist(), t.ignored.tolist()
([1], [[44.0, 8.0, 64.0, 68.0]], [False])
>>> view.frame(np.zeros((80, 100, 3), np.uint8)).shape
(80, 100, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from edge.eval.track import FrameTruth

#: Share of a truth box that must stay inside the crop for it to count.
MIN_VISIBLE = 0.6


@dataclass(frozen=True, slots=True)
class CloseUp:
    """A crop of ``1/zoom`` of a ``width`` x ``height`` frame at ``origin``, scaled back to the full size."""

    origin: tuple[float, float]
    zoom: float
    width: int
    height: int

    @classmethod
    def around(cls, truth: Mapping[int, FrameTruth], width: int, height: int, zoom: float) -> CloseUp:
        """The crop position (on an 8-pixel grid) holding the most truth box centres over all frames."""
        if zoom < 1:
            raise ValueError(f"zoom must be at least 1, got {zoom}")
        boxes = np.concatenate([t.xyxy for t in truth.values()] or [np.zeros((0, 4))])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        crop_w, crop_h = width / zoom, height / zoom
        best, origin = (-1, 0.0), (0.0, 0.0)
        for x0 in np.arange(0.0, width - crop_w + 1e-9, 8.0):
            inside_x = (centres[:, 0] >= x0) & (centres[:, 0] < x0 + crop_w)
            for y0 in np.arange(0.0, height - crop_h + 1e-9, 8.0):
                inside = inside_x & (centres[:, 1] >= y0) & (centres[:, 1] < y0 + crop_h)
                # Of the crops holding the most, the one centred on them: fewer people cut at its edges.
                off = np.hypot(*(centres[inside].mean(0) - [x0 + crop_w / 2, y0 + crop_h / 2])) if inside.any() else 0.0
                if (int(inside.sum()), -off) > best:
                    best, origin = (int(inside.sum()), -off), (float(x0), float(y0))
        return cls(origin, zoom, width, height)

    def _matrix(self) -> np.ndarray:
        x0, y0 = self.origin
        return np.float32([[self.zoom, 0, -x0 * self.zoom], [0, self.zoom, -y0 * self.zoom]])

    def frame(self, image: np.ndarray) -> np.ndarray:
        """The close-up of one frame, at the frame's own size."""
        return cv2.warpAffine(image, self._matrix(), (self.width, self.height), flags=cv2.INTER_LINEAR)

    def truth(self, truth: Mapping[int, FrameTruth]) -> dict[int, FrameTruth]:
        """The truth boxes in close-up pixels: cut ones ignored, ones outside the crop dropped."""
        x0, y0 = self.origin
        out = {}
        for frame, t in truth.items():
            scaled = (t.xyxy - [x0, y0, x0, y0]) * self.zoom
            clipped = np.clip(scaled, 0, [self.width, self.height, self.width, self.height])
            area = (scaled[:, 2] - scaled[:, 0]) * (scaled[:, 3] - scaled[:, 1])
            visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1]) / np.maximum(area, 1e-9)
            keep = visible > 0.05
            out[frame] = FrameTruth(t.ids[keep], clipped[keep], t.ignored[keep] | (visible[keep] < MIN_VISIBLE))
        return out
