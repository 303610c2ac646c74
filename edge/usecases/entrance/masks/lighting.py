"""Brightness normalisation of a face crop before the mask backbone, and synthetic darkening.

Dark pictures are the mask head's weakest slice: a face lit at a mean grey of 30 gives the
backbone features it rarely saw in training. :func:`normalise_brightness` lifts a dark crop's
luminance (the Y channel of YCrCb; chroma untouched) in two steps: a gain that takes the crop's
99th percentile to white (undoes under-exposure, up to ×4), then a gamma chosen so the mean
reaches :data:`TARGET_MEAN` (undoes a dark tone curve). A gamma alone restored gain-darkened
faces worse than no normalisation in the grouped-CV stress test. It only brightens: a crop already at or above the target is returned as is,
so normal and bright faces give the backbone exactly the pixels they gave before. Training
(``training/features.py``) and live inference (:class:`~edge.usecases.entrance.masks.linear.LinearMaskClassifier`,
when the head's meta says ``"preprocess": "luma_levels_gamma_v1"``) call this one function.

:func:`darken` imitates an under-exposed picture (gamma and/or gain), for augmentation and for
the synthetic dark stress test; it is never applied live.

>>> dark = np.full((8, 8, 3), 30, np.uint8)
>>> out = normalise_brightness(dark)
>>> out.dtype, round(luma_mean(out))  # a flat crop: the gain alone (x4) lifts it past the target
(dtype('uint8'), 120)
>>> ramp = darken(np.tile(np.arange(0, 256, 16, dtype=np.uint8)[:, None, None], (1, 4, 3)), gamma=2.5)
>>> round(luma_mean(ramp)), round(luma_mean(normalise_brightness(ramp)))  # a gamma-darkened grey ramp
(66, 95)
>>> bright = np.full((8, 8, 3), 200, np.uint8)
>>> bool((normalise_brightness(bright) == bright).all())
True
>>> int(darken(np.full((2, 2, 3), 200, np.uint8), gamma=2.0, scale=0.5)[0, 0, 0])
78
"""

from __future__ import annotations

import cv2
import numpy as np

PREPROCESS_NAME = "luma_levels_gamma_v1"  # recorded in the head's meta; the classifier applies what the head was trained with
TARGET_MEAN = 110.0  # mean luminance (0-255) a dark crop is lifted to; facemask_dev's normal-light crops sit around it
MIN_GAMMA = 0.3  # strongest lift (a crop at mean ~3 is not lifted further: it holds no face to recover)
MAX_GAIN = 4.0  # strongest exposure correction; beyond it a crop is mostly noise
WHITE_PERCENTILE = 99.0  # the level taken to white, so a few specular pixels do not stop the gain


def luma_mean(bgr: np.ndarray) -> float:
    """Mean luminance (Y of YCrCb, 0-255) of a BGR uint8 image."""
    return float(cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)[:, :, 0].mean())


def normalise_brightness(bgr: np.ndarray, target: float = TARGET_MEAN) -> np.ndarray:
    """A BGR uint8 crop whose luminance mean is lifted towards ``target``; brightens only.

    Gain ``k = 255 / p99(Y)`` (at most :data:`MAX_GAIN`), then gamma ``g`` solving
    ``(mean_k / 255) ** g = target / 255`` on the gained mean, clamped to ``[MIN_GAMMA, 1]``;
    one lookup table applies both to Y, then back to BGR.
    """
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
        raise ValueError(f"expected a non-empty BGR crop (H, W, 3), got shape {bgr.shape}")
    ycc = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2YCrCb)
    y = ycc[:, :, 0]
    if float(y.mean()) >= target:
        return bgr
    white = float(np.percentile(y, WHITE_PERCENTILE))
    gain = min(255.0 / max(white, 1.0), MAX_GAIN) if white < 255 else 1.0
    gained = np.clip(np.arange(256) * gain / 255.0, 0.0, 1.0)
    m = min(max(float(np.clip(y * gain, 0, 255).mean()), 1.0), 254.0) / 255.0
    g = 1.0 if m * 255.0 >= target else max(MIN_GAMMA, float(np.log(target / 255.0) / np.log(m)))
    lut = np.clip(np.round(255.0 * gained**g), 0, 255).astype(np.uint8)
    ycc[:, :, 0] = cv2.LUT(y, lut)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)


def darken(bgr: np.ndarray, gamma: float = 1.0, scale: float = 1.0) -> np.ndarray:
    """Under-exposure on every channel: ``255 * scale * (x / 255) ** gamma``, rounded to uint8."""
    lut = np.clip(np.round(255.0 * scale * (np.arange(256) / 255.0) ** gamma), 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(bgr), lut)
