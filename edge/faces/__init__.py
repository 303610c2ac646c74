"""Face detection: boxes, five landmarks and scores, never identity; found once per frame (:class:`FaceFinder`)."""

from edge.faces.faces import Faces
from edge.faces.finder import FaceFinder
from edge.faces.yunet import YuNetConfig, YuNetFaceDetector

__all__ = ["FaceFinder", "Faces", "YuNetConfig", "YuNetFaceDetector"]
