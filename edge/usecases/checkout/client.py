"""The enrolment kiosk and the exit camera as clients of central's checkout API.

Both turn pictures into embeddings on the device and send only numbers: the kiosk discards the
enrolment photos as soon as the embeddings exist (they are local variables, never written), and
the exit camera sends the face of whoever passes; central decides and forgets a non-member at once.

    kiosk = CheckoutClient("http://central:8000", key, "tokyo-01")
    member = kiosk.enrol([rgb1, rgb2], consent=True, consent_version="2026-11", language="ja",
                         channel="kiosk", payment_token=token)
    kiosk.exit(frame_rgb, exit_id="gate1-000123", camera_id="exit-1")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from edge.usecases.checkout.faces import FaceEmbedding, embed_subject
from edge.usecases.checkout.liveness import LivenessCue, texture_cue


class NoFace(ValueError):
    """No face found in a picture (enrolment asks for another photo)."""


@dataclass(frozen=True, slots=True)
class ExitObservation:
    face: FaceEmbedding
    liveness: LivenessCue

    def body(self, exit_id: str, camera_id: str) -> dict[str, Any]:
        return {"exit_id": exit_id, "camera_id": camera_id, "embedding": [round(float(v), 6) for v in self.face.vector],
                "quality_ok": self.face.quality_ok, "live": self.liveness.live}


def observe(rgb: np.ndarray) -> ExitObservation | None:
    """The subject's embedding and liveness cue, or None when no face is in the picture."""
    face = embed_subject(rgb)
    return None if face is None else ExitObservation(face, texture_cue(rgb, face.box))


class CheckoutClient:
    """Talks to ``/api/v1/stores/{store}/checkout``; ``http`` may be any httpx-like client (tests)."""

    def __init__(self, base_url: str, api_key: str, store_id: str, http: Any = None) -> None:
        self.store_id = store_id
        self._http = http or httpx.Client(base_url=base_url, timeout=30.0)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self._http.post(f"/api/v1/stores/{self.store_id}/checkout{path}", json=body, headers=self._headers)

    def enrol(self, photos: Sequence[np.ndarray], *, consent: bool, consent_version: str, language: str, channel: str,
              payment_token: str) -> httpx.Response:
        """Embed 1-3 photos (NoFace when one has no face) and enrol; the photos are not kept."""
        vectors = []
        for i, rgb in enumerate(photos):
            face = embed_subject(rgb)
            if face is None:
                raise NoFace(f"no face found in enrolment photo {i + 1}; take another")
            vectors.append([round(float(v), 6) for v in face.vector])
        return self._post("/members", {"consent": consent, "consent_version": consent_version, "language": language,
                                       "channel": channel, "payment_token": payment_token, "embeddings": vectors})

    def withdraw(self, member_id: str) -> httpx.Response:
        """The member withdraws consent (kiosk or staff desk): central deletes the key at once."""
        return self._post(f"/members/{member_id}/withdraw", {})

    def add_items(self, member_id: str, items: Sequence[dict[str, Any]], source: str = "self_scan") -> httpx.Response:
        return self._post(f"/members/{member_id}/items", {"source": source, "items": list(items)})

    def exit(self, rgb: np.ndarray, exit_id: str, camera_id: str) -> httpx.Response | None:
        """Send the face at the gate (None: no face in the picture, nothing sent)."""
        seen = observe(rgb)
        return None if seen is None else self.send_exit(seen, exit_id, camera_id)

    def send_exit(self, seen: ExitObservation, exit_id: str, camera_id: str) -> httpx.Response:
        return self._post("/exits", seen.body(exit_id, camera_id))
