"""YuNet on real photos: faces, five landmarks, and inner canthi between the eyes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.faces import Faces, YuNetConfig, YuNetFaceDetector
from edge.faces.faces import crop_box
from edge.paths import media_dir

SCENES = media_dir() / "facemask" / "scenes"


@pytest.fixture(scope="module")
def yunet() -> YuNetFaceDetector:
    return YuNetFaceDetector()


def scene(name: str) -> np.ndarray:
    image = cv2.imread(str(SCENES / name))
    assert image is not None, f"missing test photo {SCENES / name} (see ../shared/data/MANIFEST.md)"
    return image


@pytest.mark.parametrize(("name", "at_least", "at_most"), [
    pytest.param("chandrikadeb7_pic1.jpeg", 2, 2, id="two masked people"),
    pytest.param("chandrikadeb7_pic2.jpg", 3, 5, id="three women in front, partial faces behind"),
    pytest.param("chandrikadeb7_pic3.jpg", 1, 1, id="one face in low light"),
])
def test_yunet_finds_the_faces_in_the_scene_photos(yunet, name, at_least, at_most):
    faces = yunet.detect(scene(name))
    assert at_least <= len(faces) <= at_most
    assert (faces.score >= 0.6).all()


def test_landmarks_lie_inside_their_face_and_canthi_between_the_eyes(yunet):
    faces = yunet.detect(scene("chandrikadeb7_pic2.jpg"))
    x1, y1, x2, y2 = faces.xyxy.T
    lm = faces.landmarks
    inside = (lm[..., 0] >= x1[:, None] - 2) & (lm[..., 0] <= x2[:, None] + 2) & (lm[..., 1] >= y1[:, None] - 2) & (lm[..., 1] <= y2[:, None] + 2)
    assert inside.all()
    canthi = faces.inner_canthi()
    eyes_x = np.sort(lm[:, :2, 0], axis=1)
    assert ((canthi[:, :, 0] > eyes_x[:, :1]) & (canthi[:, :, 0] < eyes_x[:, 1:])).all()
    assert np.allclose(np.linalg.norm(canthi[:, 0] - canthi[:, 1], axis=1), faces.interocular() / 2, rtol=1e-4)


def test_no_faces_in_a_plain_wall_and_a_min_size_filter(yunet):
    assert len(yunet.detect(np.full((240, 320, 3), 128, np.uint8))) == 0
    big_only = YuNetFaceDetector(YuNetConfig(min_size=150))
    assert len(big_only.detect(scene("chandrikadeb7_pic2.jpg"))) < len(yunet.detect(scene("chandrikadeb7_pic2.jpg")))


def test_faces_value_object_checks_shapes_and_orders_by_size():
    with pytest.raises(ValueError, match="Faces.score"):
        Faces(np.zeros((2, 4)), np.zeros((2, 5, 2)), np.zeros(3))
    faces = Faces(np.array([[0, 0, 10, 10], [0, 0, 50, 50]]), np.zeros((2, 5, 2)), np.array([0.9, 0.8]))
    assert faces.largest_first().score.tolist() == pytest.approx([0.8, 0.9])
    assert crop_box(np.array([90, 90, 110, 110], np.float32), (100, 100), 0.5) == (80, 80, 100, 100)


def test_a_grey_image_is_refused_with_its_shape(yunet):
    with pytest.raises(ValueError, match=r"\(40, 40\)"):
        yunet.detect(np.zeros((40, 40), np.uint8))


def test_rows_yunet_returns_as_nan_or_without_area_are_no_faces(monkeypatch):
    """YuNet now and then returns a non-finite row; it must not become a face (an empty crop downstream)."""
    detector = YuNetFaceDetector()
    rows = np.array([[10, 10, 40, 50, *([20.0] * 10), 0.9],
                     [np.nan, 5, 30, 30, *([1.0] * 10), 0.8],
                     [490, 10, 30, 30, *([1.0] * 10), 0.7]], np.float32)  # wholly right of a 480-wide frame
    monkeypatch.setattr(detector, "_net", type("Net", (), {"detect": lambda self, f: (1, rows), "setInputSize": lambda self, s: None})())
    faces = detector.detect(np.zeros((360, 480, 3), np.uint8))
    assert faces.xyxy.tolist() == [[10.0, 10.0, 50.0, 60.0]]
