"""Per-face mask probabilities of every classifier on the multi-person scene photos.

    python -m edge.usecases.entrance.masks.training.scenes [--scenes ../shared/data/media/facemask/scenes]

Prints one JSON line per face (scene, face box, YuNet score, P(mask) per classifier); the model
card's scene table comes from this command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge.faces import YuNetFaceDetector
from edge.paths import media_dir
from edge.usecases.entrance.masks.aizoo import AizooMaskClassifier
from edge.usecases.entrance.masks.linear import LinearMaskClassifier
from edge.usecases.entrance.masks.mobilenetv2 import MobileNetV2MaskClassifier
from edge.usecases.entrance.masks.pipeline import face_crops
from edge.usecases.entrance.masks.training.dataset import IMAGE_SUFFIXES, read_image


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Per-face P(mask) on scene photos for each classifier.")
    ap.add_argument("--scenes", type=Path, default=media_dir() / "facemask" / "scenes")
    a = ap.parse_args(argv)
    faces_det = YuNetFaceDetector()
    classifiers = {"linear": LinearMaskClassifier(), "mobilenetv2": MobileNetV2MaskClassifier(), "aizoo": AizooMaskClassifier()}
    for path in sorted(p for p in a.scenes.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        image = read_image(path)
        faces = faces_det.detect(image)
        crops = [c.crop for c in face_crops(image, faces)]
        probs = {name: clf.predict(crops) for name, clf in classifiers.items()}
        for k in range(len(faces)):
            print(json.dumps({"scene": path.name, "box": [round(float(v)) for v in faces.xyxy[k]],
                              "face_score": round(float(faces.score[k]), 2),
                              **{f"p_mask_{n}": round(float(p[k]), 3) for n, p in probs.items()}}))


if __name__ == "__main__":
    main()
