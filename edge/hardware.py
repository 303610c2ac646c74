"""What CPU a speed figure was measured on.

The same int8 ONNX model runs about three to four times faster on a CPU with int8 dot-product
instructions (x86 VNNI, Arm's dot product) than on one with AVX2 alone (pets_person_v2 at 416 px on
one thread: 38 ms against 128 ms, both measured on this project's 2-core boxes). A frames-per-second
figure without the CPU it came from is therefore not a figure of the product, so ``anshin bench edge``
and ``anshin eval track`` report this beside it.

>>> sorted(cpu_description())
['cores', 'int8_dot_product', 'model']
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# /proc/cpuinfo flags that give onnxruntime fast int8 convolutions.
_INT8_DOT_FLAGS = {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"}


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, object]:
    """``{model, cores, int8_dot_product}`` of this machine (model from /proc/cpuinfo where there is one).

    ``int8_dot_product`` is None where the flags cannot be read (not Linux).
    """
    model, flags = platform.processor() or platform.machine(), None
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and value.strip():
            model = value.strip()
        elif key in ("flags", "features") and flags is None:
            flags = set(value.split())
    return {"model": model, "cores": os.cpu_count(),
            "int8_dot_product": None if flags is None else bool(flags & _INT8_DOT_FLAGS)}
