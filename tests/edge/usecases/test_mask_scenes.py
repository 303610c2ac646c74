"""Mask decisions on real multi-person scene photos (facemask/scenes), with the chosen classifier.

Unseen data: the scenes are not among the images the head or its backbone was trained on (checked
below by sha256 against their fit manifests), so these are accuracy checks, not memorisation.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.faces import YuNetFaceDetector
from edge.paths import media_dir
from edge.usecases.entrance.masks.linear import LinearMaskClassifier
from edge.usecases.entrance.masks.pipeline import face_crops

SCENES = media_dir() / "facemask" / "scenes"


@pytest.fixture(scope="module")
def screen():
    faces_det, masks = YuNetFaceDetector(), LinearMaskClassifier()

    def run(name: str) -> list[tuple[float, float]]:
        """(face centre x in pixels, P(mask)) per face."""
        image = cv2.imread(str(SCENES / name))
        assert image is not None, f"missing {SCENES / name}"
        faces = faces_det.detect(image)
        p = masks.predict([c.crop for c in face_crops(image, faces)])
        return [(float((b[0] + b[2]) / 2), float(q)) for b, q in zip(faces.xyxy, p, strict=True)]

    return run


def p_mask_near(results: list[tuple[float, float]], x: float) -> float:
    cx, p = min(results, key=lambda r: abs(r[0] - x))
    assert abs(cx - x) < 40, f"no face found near x={x}: {results}"
    return p


def test_both_people_in_pic1_wear_masks(screen):
    results = screen("chandrikadeb7_pic1.jpeg")
    assert len(results) == 2
    assert all(p >= 0.5 for _, p in results), results


@pytest.mark.parametrize(("x", "masked"), [
    pytest.param(141, False, id="left woman, no mask"),
    pytest.param(445, True, id="centre woman, surgical mask"),
    pytest.param(685, False, id="right woman, mask pulled down to the chin"),
])
def test_pic2_front_row(screen, x, masked):
    p = p_mask_near(screen("chandrikadeb7_pic2.jpg"), x)
    assert (p >= 0.5) == masked, f"P(mask)={p:.3f}"


def test_unmasked_face_in_low_light_pic3(screen):
    results = screen("chandrikadeb7_pic3.jpg")
    assert len(results) == 1 and results[0][1] < 0.5, results


def test_the_scenes_are_unseen_by_the_head_and_its_backbone():
    from edge.eval.fit_manifest import check_files, existing
    from edge.eval.mask import fit_manifests

    manifests = existing(fit_manifests("linear"))
    assert len(manifests) == 2  # the head's and the backbone's
    report = check_files(sorted(SCENES.glob("*.jp*g")), manifests)
    assert report["fitted_on_this_data"] is False and report["fitted_overlap"] == 0.0


def test_the_head_is_small_and_records_its_training(screen):
    """Its recorded balanced accuracy is the grouped cross-validated one, not a training-set figure."""
    clf = LinearMaskClassifier()
    meta = clf.head.meta
    assert meta["backbone_sha256_12"] == clf.backbone.model_version
    assert meta["training_data"] == "facemask_dev" and meta["cv"]["balanced_accuracy"] >= 0.98
    assert clf.head.w.shape == (1280,)
    assert np.isfinite(clf.head.w).all()
