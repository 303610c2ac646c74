"""Multi-object tracking: Detections in, Detections with ``tracker_id`` out."""

from edge.tracking.bytetrack import ByteTracker
from edge.tracking.config import TrackerConfig

__all__ = ["ByteTracker", "TrackerConfig"]
