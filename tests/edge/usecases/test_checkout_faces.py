"""Use case E at the edge on real photos: dlib embeddings (flip-averaged) separate the same person
from others under the shipped thresholds, the quality gate passes good photos, and the texture
liveness cue passes live photos and catches re-captured ones (a phone photo, a screen)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.paths import media_dir
from edge.usecases.checkout.faces import central_box, embed_subject, load_rgb, locate
from edge.usecases.checkout.liveness import at_gate_scale, recapture_print, recapture_screen, texture_cue
from services.contract.usecases.checkout import MATCH_THRESHOLD, REVIEW_THRESHOLD, Candidate, decide

PHOTOS = media_dir() / "face_recognition_examples"
pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason="shared data not present")


@pytest.fixture(scope="module")
def faces() -> dict:
    names = {"obama_a": "knn_examples/train/obama/obama.jpg", "obama_b": "obama3.jpg",
             "biden": "knn_examples/train/biden/biden.jpg", "kit": "knn_examples/train/kit_harington/john1.jpeg"}
    out = {}
    for key, rel in names.items():
        rgb = load_rgb(str(PHOTOS / rel))
        out[key] = (rgb, embed_subject(rgb))
    return out


def dist(a, b) -> float:  # noqa: ANN001
    return float(np.linalg.norm(a.vector - b.vector))


def test_same_person_matches_and_others_are_strangers(faces: dict) -> None:
    o1, o2, biden, kit = (faces[k][1] for k in ("obama_a", "obama_b", "biden", "kit"))
    assert all(f is not None and f.vector.shape == (128,) and f.quality_ok for f in (o1, o2, biden, kit))
    assert dist(o1, o2) < MATCH_THRESHOLD
    assert min(dist(o1, biden), dist(o1, kit), dist(biden, kit)) > REVIEW_THRESHOLD
    decision = decide(Candidate("obama", dist(o1, o2)), Candidate("biden", dist(o2, biden)), quality_ok=True, live=True)
    assert decision.outcome == "charge"
    assert decide(Candidate("obama", dist(kit, o1)), None, quality_ok=True, live=True).outcome == "ignore"


def test_no_face_gives_none() -> None:
    assert embed_subject(np.full((200, 200, 3), 127, np.uint8)) is None


def test_liveness_cue_passes_live_photos_and_catches_recaptures(faces: dict) -> None:
    """At the gate camera's scale (face about 110 px): live photos pass; a print (blurred) and a phone
    screen (pixel grid) held to the camera are caught."""
    for key in ("obama_a", "obama_b", "biden", "kit"):
        rgb, face = faces[key]
        seen = at_gate_scale(rgb, face.side_px)
        box = central_box(locate(seen), seen.shape[1], seen.shape[0])
        assert box is not None, key
        assert texture_cue(seen, box).live, key
        assert not texture_cue(recapture_print(seen), box).live, key
        assert not texture_cue(recapture_screen(seen), box).live, key
