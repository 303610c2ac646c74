"""A replayable, appendable recording of radiometric frames (``.athr``).

Layout (little-endian): the magic ``b"ATHR1\\n"``, one JSON header line (``width``, ``height``,
``unit`` = ``"centikelvin"``, free ``meta``), then one record per frame: float64 capture time in
seconds followed by ``height * width`` uint16 values, row-major. Frames can be appended while
recording and read back in order; a truncated last record (power loss) is ignored.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.athr"
>>> with RecordingWriter(p, width=3, height=2, meta={"camera": "demo"}) as w:
...     w.write(ThermalFrame(np.full((2, 3), 31015, np.uint16), at=1.5))
>>> rec = RecordingReader(p)
>>> rec.meta, len(rec), rec[0].at, int(rec[0].ck[1, 2])
({'camera': 'demo'}, 1, 1.5, 31015)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np

from edge.usecases.entrance.thermal.frame import ThermalFrame

MAGIC = b"ATHR1\n"


class RecordingWriter:
    def __init__(self, path: Path, width: int, height: int, meta: dict[str, Any] | None = None) -> None:
        self.path, self.width, self.height = Path(path), width, height
        header = {"width": width, "height": height, "unit": "centikelvin", "meta": meta or {}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: BinaryIO = self.path.open("wb")
        self._f.write(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n")

    def write(self, frame: ThermalFrame) -> None:
        if frame.size != (self.width, self.height):
            raise ValueError(f"{self.path}: frame is {frame.size}, recording is {(self.width, self.height)}")
        self._f.write(np.float64(frame.at).astype("<f8").tobytes())
        self._f.write(frame.ck.astype("<u2").tobytes())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class RecordingReader:
    """Random access to a recording (memory-mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self.path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise ValueError(f"{self.path}: not an Anshin thermal recording (missing ATHR1 magic)")
            line = f.readline()
            try:
                header = json.loads(line)
                self.width, self.height = int(header["width"]), int(header["height"])
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{self.path}: bad recording header {line[:200]!r}: {exc}") from exc
            if header.get("unit") != "centikelvin":
                raise ValueError(f"{self.path}: unit {header.get('unit')!r}; only 'centikelvin' is supported")
            self.meta: dict[str, Any] = header.get("meta", {})
            offset = f.tell()
        record = np.dtype([("at", "<f8"), ("ck", "<u2", (self.height, self.width))])
        count = (self.path.stat().st_size - offset) // record.itemsize
        self._data = np.memmap(self.path, dtype=record, mode="r", offset=offset, shape=(count,)) if count else None

    def __len__(self) -> int:
        return 0 if self._data is None else len(self._data)

    def __getitem__(self, i: int) -> ThermalFrame:
        if self._data is None:
            raise IndexError(f"{self.path}: recording has no frames")
        rec = self._data[i]
        return ThermalFrame(np.array(rec["ck"], dtype=np.uint16), float(rec["at"]))

    def __iter__(self) -> Iterator[ThermalFrame]:
        return (self[i] for i in range(len(self)))

    def times(self) -> np.ndarray:
        """(n,) capture times in seconds."""
        return np.zeros(0) if self._data is None else np.asarray(self._data["at"], dtype=np.float64)

    def nearest(self, at: float) -> ThermalFrame:
        """The frame captured closest to ``at`` (seconds), for pairing with an RGB frame."""
        return self[int(np.argmin(np.abs(self.times() - at)))]
