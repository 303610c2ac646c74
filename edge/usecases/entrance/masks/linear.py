"""The project's mask classifier: MobileNetV2 pooled features → a trained logistic-regression head.

The backbone is the chandrikadeb7 MobileNetV2 (derived TFLite, in the models directory); the
head (``models/weights/anshin_mask_head_v1.npz``, 15 KB, committed) is trained reproducibly by
``python -m edge.usecases.entrance.masks.training.train`` on facemask_dev. Card: ``models/cards/anshin_mask_head.md``.
A head trained on brightness-normalised crops says so in its meta (``"preprocess"``), and the
classifier then normalises every crop with the same function before the backbone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.paths import PROJECT_ROOT
from edge.usecases.entrance.masks.lighting import PREPROCESS_NAME, normalise_brightness
from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier

HEAD_DIR = PROJECT_ROOT / "models" / "weights"
DEFAULT_HEAD = HEAD_DIR / "anshin_mask_head_v1.npz"


@dataclass(frozen=True, slots=True)
class LinearHead:
    """Standardise, then logistic regression: P(mask) = sigmoid(((x - mean) / scale) · w + b)."""

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    w: npt.NDArray[np.float32]
    b: float
    meta: dict[str, object]

    def decision(self, x: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """(n,) logits for features (n, d)."""
        z = (np.asarray(x, np.float64) - self.mean) / self.scale
        return z @ self.w.astype(np.float64) + self.b

    def predict(self, x: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        return (1.0 / (1.0 + np.exp(-self.decision(x)))).astype(np.float32)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                 w=self.w.astype(np.float32), b=np.float32(self.b), meta=json.dumps(self.meta, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        if not Path(path).is_file():
            raise FileNotFoundError(f"mask head weights {path} not found; train them with "
                                    "`python -m edge.usecases.entrance.masks.training.train` (see models/cards/anshin_mask_head.md)")
        with np.load(path, allow_pickle=False) as z:
            return cls(z["mean"], z["scale"], z["w"], float(z["b"]), json.loads(str(z["meta"])))


class LinearMaskClassifier:
    """P(mask) from the trained head on MobileNetV2 features; ``flip_average`` also scores the mirror image."""

    kind = "linear"
    model_name = "anshin_mask_head"

    def __init__(self, head: Path = DEFAULT_HEAD, backbone: MobileNetV2MaskClassifier | None = None,
                 flip_average: bool = False) -> None:
        self.head = LinearHead.load(head)
        self.backbone = backbone or MobileNetV2MaskClassifier()
        expected = self.head.meta.get("backbone_sha256_12")
        if expected and expected != self.backbone.model_version:
            raise ValueError(f"{head}: trained on backbone {expected}, but the loaded MobileNetV2 is "
                             f"{self.backbone.model_version}; retrain the head or use the matching model file")
        preprocess = self.head.meta.get("preprocess", "none")
        if preprocess not in ("none", PREPROCESS_NAME):
            raise ValueError(f"{head}: trained with crop preprocessing {preprocess!r}, which this code does not know")
        self.normalise = preprocess == PREPROCESS_NAME
        self.flip_average = flip_average
        digest = hashlib.sha256(Path(head).read_bytes()).hexdigest()[:12]
        self.model_version = f"{self.head.meta.get('version', 'v?')}+{digest}"

    def predict(self, crops: list[np.ndarray]) -> npt.NDArray[np.float32]:
        if not crops:
            return np.zeros(0, np.float32)
        if self.normalise:  # the same function the head's training features went through
            crops = [normalise_brightness(c) for c in crops]
        feats, _ = self.backbone.embed(crops)
        p = self.head.predict(feats)
        if self.flip_average:
            flipped, _ = self.backbone.embed([c[:, ::-1] for c in crops])
            p = (p + self.head.predict(flipped)) / 2
        return p.astype(np.float32)
