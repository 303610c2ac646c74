"""A texture liveness cue for the exit camera: is this face a live face or a re-captured picture?

Two measurements on the face crop (grey, resized to 128 x 128):

* ``sharpness``: variance of the Laplacian divided by the crop's mean brightness squared. A printed
  photo or a low-resolution screen held to the camera loses the fine skin texture a live face at
  gate distance shows.
* ``grid_peak``: the strongest isolated peak of the crop's spectrum at high frequency, relative to
  the median there. A phone or monitor re-captured by a camera shows a pixel grid (moiré): sharp
  periodic peaks that skin does not have.

What it catches and what it does not (measured with ``anshin eval faces --liveness``): re-captures
that blur the face (prints, low-resolution screens) and screens with a visible pixel grid. The
attacks there are synthetic (made from the LFW photos); no real presentation-attack data set was
available, so a high-quality print or a 4K screen at close range may pass. A doubtful cue never
blocks anyone: it only sends the exit to staff instead of an automatic charge.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> face = (rng.random((160, 160, 3)) * 255).astype(np.uint8)
>>> cue = texture_cue(face, (0, 160, 160, 0))  # white noise: far too much fine detail for skin
>>> cue.live, cue.sharpness > MAX_SHARPNESS
(False, True)
>>> flat = np.full((160, 160, 3), 128, np.uint8)
>>> texture_cue(flat, (0, 160, 160, 0)).live
False
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Below this normalised Laplacian variance the crop is too smooth for a live face. Chosen on 120 faces
#: of lfw_dev's tuning half: about 2 % of live faces fall below it (1st/2nd percentile 0.0009/0.0010).
MIN_SHARPNESS = 0.001
#: Above this high-frequency peak-to-median ratio the crop shows a screen's pixel grid. On the same 120
#: faces the largest live value was 154 and the smallest synthetic screen 160.
MAX_GRID_PEAK = 160.0
#: Above this the crop has more fine detail than skin: a screen's pixel grid again (live faces of the
#: tuning half: 99th percentile 0.015; synthetic screens: 1st percentile 0.053).
MAX_SHARPNESS = 0.03
#: Face width (pixels) the cue was tuned at: LFW faces and a 1080p gate camera at about 1.5 m.
GATE_FACE_PX = 110
CROP = 128


@dataclass(frozen=True, slots=True)
class LivenessCue:
    sharpness: float
    grid_peak: float

    @property
    def live(self) -> bool:
        return MIN_SHARPNESS <= self.sharpness <= MAX_SHARPNESS and self.grid_peak <= MAX_GRID_PEAK


def _crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    import cv2

    top, right, bottom, left = box
    h, w = rgb.shape[:2]
    face = rgb[max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
    if face.size == 0:
        return np.zeros((CROP, CROP), np.float32)
    grey = cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (CROP, CROP), interpolation=cv2.INTER_AREA).astype(np.float32)


def texture_cue(rgb: np.ndarray, box: tuple[int, int, int, int]) -> LivenessCue:
    """Both measurements for the face ``box`` (top, right, bottom, left) of an RGB picture."""
    import cv2

    grey = _crop(rgb, box)
    mean = float(grey.mean())
    if mean < 1.0:
        return LivenessCue(0.0, 0.0)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_32F).var()) / (mean * mean)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(grey - mean)))
    yy, xx = np.mgrid[:CROP, :CROP]
    radius = np.hypot(yy - CROP / 2, xx - CROP / 2)
    high = spectrum[radius > CROP / 4]
    grid_peak = float(high.max() / max(float(np.median(high)), 1e-6))
    return LivenessCue(round(sharpness, 5), round(grid_peak, 2))


def at_gate_scale(rgb: np.ndarray, face_side: int, target: int = GATE_FACE_PX) -> np.ndarray:
    """The picture resized so the face is ``target`` pixels wide, as the gate camera would see it
    (attacks are simulated at that scale: a print's blur or a screen's grid lands where the camera samples)."""
    import cv2

    k = target / max(face_side, 1)
    return cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)


def recapture_print(rgb: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """A synthetic print / low-resolution screen attack: the picture shrunk and blown up again."""
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def recapture_screen(rgb: np.ndarray, period: int = 3, depth: float = 0.35) -> np.ndarray:
    """A synthetic screen attack: the picture seen through an RGB sub-pixel grid of ``period`` pixels."""
    h, w = rgb.shape[:2]
    mask = np.ones((h, w, 3), np.float32) * (1 - depth)
    for c in range(3):
        mask[:, c::period, c] = 1.0
    mask[::period, :, :] *= 1 - depth / 2
    return np.clip(rgb.astype(np.float32) * mask, 0, 255).astype(np.uint8)
