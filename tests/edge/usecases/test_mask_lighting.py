"""Brightness normalisation before the mask head: what it does to a real face crop, and that live uses it.

The faces come from the scene photos (unseen by the head and its backbone, see test_mask_scenes.py).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.faces import YuNetFaceDetector
from edge.paths import media_dir
from edge.usecases.entrance.masks.lighting import TARGET_MEAN, darken, luma_mean, normalise_brightness
from edge.usecases.entrance.masks.linear import LinearHead, LinearMaskClassifier
from edge.usecases.entrance.masks.pipeline import face_crops

PIC2 = media_dir() / "facemask" / "scenes" / "chandrikadeb7_pic2.jpg"


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    image = cv2.imread(str(PIC2))
    assert image is not None, f"missing {PIC2}"
    faces = YuNetFaceDetector().detect(image)
    return [np.ascontiguousarray(c.crop) for c in face_crops(image, faces)]


def _grey(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()


@pytest.mark.parametrize(("gamma", "scale"), [(2.5, 1.0), (1.0, 0.4), (2.0, 0.5)])
def test_a_darkened_face_crop_is_lifted_back_to_the_target_brightness(crops, gamma, scale):
    crop = crops[0]
    dark = darken(crop, gamma=gamma, scale=scale)
    assert luma_mean(dark) < 0.6 * luma_mean(crop)
    out = normalise_brightness(dark)
    assert out.shape == crop.shape and out.dtype == np.uint8
    # lifted to about the target, or back to about the original exposure when a gain undoes the darkening
    assert luma_mean(out) > TARGET_MEAN - 20 and luma_mean(out) > 1.5 * luma_mean(dark), luma_mean(out)
    # the face's structure survives: the restored crop still correlates with the original
    assert np.corrcoef(_grey(out), _grey(crop))[0, 1] > 0.9


def test_a_normally_lit_crop_is_left_exactly_as_it_was(crops):
    bright = [c for c in crops if luma_mean(c) >= TARGET_MEAN]
    assert bright, [luma_mean(c) for c in crops]
    for crop in bright:
        assert normalise_brightness(crop) is crop


def test_normalisation_keeps_chroma_and_only_brightens(crops):
    dark = darken(crops[0], gamma=2.5)
    out = normalise_brightness(dark)
    ycc_in, ycc_out = (cv2.cvtColor(x, cv2.COLOR_BGR2YCrCb).astype(int) for x in (dark, out))
    assert (ycc_out[:, :, 0] >= ycc_in[:, :, 0]).all()
    # chroma moves only by the rounding of the YCrCb round trip
    assert np.abs(ycc_out[:, :, 1:] - ycc_in[:, :, 1:]).mean() < 2.0


def test_the_live_classifier_normalises_crops_when_its_head_was_trained_so(crops):
    clf = LinearMaskClassifier()
    assert clf.normalise is (clf.head.meta.get("preprocess") == "luma_levels_gamma_v1")
    dark = [darken(c, gamma=2.5) for c in crops]
    feats, _ = clf.backbone.embed([normalise_brightness(c) if clf.normalise else c for c in dark])
    np.testing.assert_allclose(clf.predict(dark), clf.head.predict(feats), atol=1e-6)


def test_a_head_with_an_unknown_preprocessing_is_refused(tmp_path):
    head = LinearMaskClassifier().head
    LinearHead(head.mean, head.scale, head.w, head.b, {**head.meta, "preprocess": "clahe_v9"}).save(tmp_path / "h.npz")
    with pytest.raises(ValueError, match="clahe_v9"):
        LinearMaskClassifier(head=tmp_path / "h.npz")
