"""Live radiometric frames from a PureThermal (FLIR Lepton) board over UVC, through OpenCV.

The board must be in radiometric TLinear mode (the default Y16 stream of PureThermal firmware
with a Lepton 3.5): each pixel is then the scene temperature in centi-Kelvin. OpenCV must not
convert to RGB (``CAP_PROP_CONVERT_RGB = 0``) or the 16-bit values are lost.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from edge.usecases.entrance.thermal.frame import ThermalFrame


class UvcThermalCamera:
    """Reads Y16 frames; raises with the device named when it cannot deliver 16-bit data."""

    def __init__(self, device: int | str = 0, width: int = 160, height: int = 120) -> None:
        self.device = device
        self._cap = cv2.VideoCapture(device, cv2.CAP_V4L2) if isinstance(device, int) else cv2.VideoCapture(device)
        if not self._cap.isOpened():
            raise RuntimeError(f"thermal camera {device!r}: cannot open (is the PureThermal board plugged in?)")
        self._cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc("Y", "1", "6", " "))
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_CONVERT_RGB, 0)

    def read(self) -> ThermalFrame:
        ok, raw = self._cap.read()
        at = time.time()
        if not ok or raw is None:
            raise RuntimeError(f"thermal camera {self.device!r}: no frame")
        frame = np.asarray(raw)
        if frame.dtype != np.uint16:
            # Some backends hand Y16 back as (H, 2W) or (1, 2HW) bytes: reinterpret, do not scale.
            frame = np.frombuffer(frame.tobytes(), dtype="<u2")
            w, h = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            if frame.size != w * h:
                raise RuntimeError(f"thermal camera {self.device!r}: got {frame.size} values, expected {w}x{h} Y16")
            frame = frame.reshape(h, w)
        return ThermalFrame(np.ascontiguousarray(frame.reshape(frame.shape[0], -1)), at)

    def close(self) -> None:
        self._cap.release()
