"""Camera sources: video files, RTSP/HTTP streams and USB cameras through OpenCV."""

from edge.sources.video import Backoff, Frame, SourceError, SourceNotFoundError, VideoSource, source_kind

__all__ = ["Backoff", "Frame", "SourceError", "SourceNotFoundError", "VideoSource", "source_kind"]
