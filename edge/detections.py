"""Columnar value object for one frame's detections (and, once tracked, tracks).

>>> import numpy as np
>>> d = Detections(xyxy=np.array([[0, 0, 10, 20], [5, 5, 8, 9]], dtype=np.float32),
...                score=np.array([0.9, 0.3], dtype=np.float32), class_id=np.array([0, 0]))
>>> len(d), len(d[d.score > 0.5])
(2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PERSON = 0  # COCO class id


@dataclass(frozen=True, slots=True)
class Detections:
    """Parallel arrays, one row per object.

    Attributes:
        xyxy: (n, 4) float32 boxes in pixels of the source frame.
        score: (n,) float32 confidences in 0..1.
        class_id: (n,) int64 class ids (COCO: person = 0).
        tracker_id: (n,) int64 track ids, or None before tracking.
    """

    xyxy: npt.NDArray[np.float32]
    score: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]
    tracker_id: npt.NDArray[np.int64] | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        object.__setattr__(self, "xyxy", xyxy)
        n = len(xyxy)
        object.__setattr__(self, "score", np.asarray(self.score, dtype=np.float32).reshape(-1))
        object.__setattr__(self, "class_id", np.asarray(self.class_id, dtype=np.int64).reshape(-1))
        if self.tracker_id is not None:
            object.__setattr__(self, "tracker_id", np.asarray(self.tracker_id, dtype=np.int64).reshape(-1))
        for name in ("score", "class_id", "tracker_id"):
            value = getattr(self, name)
            if value is not None and value.shape != (n,):
                raise ValueError(f"Detections.{name}: expected shape ({n},), got {value.shape}")
        for name, value in self.data.items():
            if len(value) != n:
                raise ValueError(f"Detections.data[{name!r}]: expected length {n}, got {len(value)}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.int64] | slice) -> Detections:
        return Detections(
            xyxy=self.xyxy[index],
            score=self.score[index],
            class_id=self.class_id[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
            data={k: v[index] for k, v in self.data.items()},
        )

    def people(self) -> Detections:
        return self[self.class_id == PERSON]

    def with_tracker_ids(self, tracker_id: npt.NDArray[np.int64]) -> Detections:
        return Detections(self.xyxy, self.score, self.class_id, tracker_id, dict(self.data))
