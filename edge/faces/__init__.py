"""Face detection for the entrance (use case A): boxes, five landmarks and scores, never identity."""

from edge.faces.faces import Faces
from edge.faces.yunet import YuNetConfig, YuNetFaceDetector

__all__ = ["Faces", "YuNetConfig", "YuNetFaceDetector"]
