"""Train the shelf-gap detector from scratch: Ultralytics ``yolov5nu.yaml``, 1 class, random init.

Seeded and bounded for a CPU: the model is built from the architecture (YOLOv5n backbone and neck,
anchor-free head, ``nc=1``) with random weights, and ``pretrained=False`` keeps Ultralytics from
loading any checkpoint. Photos whose source photo is held out (``gaps.dataset.held_out``) never reach
training; ``anshin eval shelf`` scores them.

    nice -n 10 .venv/bin/python -m edge.usecases.shelf.training.train --out models/weights/anshin_shelf_gap_v1.pt

writes the weights and ``<out>.fit.json`` (sha256 of every training photo).

Provenance of the committed ``anshin_shelf_gap_v1.pt``: it came from the earlier form of this script,
which first wrote an initial checkpoint with the SKU-110K YOLOv5n backbone and neck copied in and then
called ``YOLO(init).train(..., pretrained=False)``. With ``pretrained=False`` Ultralytics 8.4.190
rebuilds the model from the checkpoint's architecture and drops its weights
(``ultralytics/engine/model.py``, ``Model.train``: ``weights = None if pretrained is False``), so the copy had no
effect: the shipped conv tensors do not correlate with the SKU-110K ones (median Pearson r 0.0005 over
57 same-named tensors, -0.03..0.05). This script is that same training said plainly: same
architecture, seed and arguments, no SKU-110K weights read (see ``models/cards/anshin_shelf_gap.md``).
The wall-clock cap (``--hours``) turns into an epoch count that depends on the machine's speed, so a
rerun matches the committed weights only where it runs the same number of epochs (86).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from edge.paths import PROJECT_ROOT, media_dir
from edge.usecases.shelf.gaps.dataset import load

SEED = 20261130
# YOLOv5n backbone and neck with Ultralytics' anchor-free head; nc comes from data.yaml (1 class).
ARCHITECTURE = "yolov5nu.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=media_dir() / "empty_shelf")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "models/weights/anshin_shelf_gap_v1.pt")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "var/shelf/train")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hours", type=float, default=0.3, help="wall-clock cap (ultralytics `time`)")
    args = parser.parse_args()
    args.out = args.out.resolve()

    from ultralytics import YOLO

    photos = [p for p in load(args.dataset) if not p.held_out]
    args.work.mkdir(parents=True, exist_ok=True)
    listing = args.work / "train.txt"
    listing.write_text("".join(f"{p.path.resolve()}\n" for p in photos))
    data = args.work / "data.yaml"
    data.write_text(f"train: {listing}\nval: {listing}\nnc: 1\nnames: ['empty_shelf']\n")
    model = YOLO(ARCHITECTURE, task="detect")  # random init; pretrained=False: no checkpoint is loaded
    model.train(data=str(data), imgsz=args.imgsz, epochs=args.epochs, time=args.hours, batch=16, workers=0,
                device="cpu", seed=SEED, deterministic=True, val=False, plots=False, amp=False,
                project=str(args.work), name="run", exist_ok=True, pretrained=False, verbose=False)
    best = args.work / "run/weights/last.pt"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, args.out)
    write_manifest(args.out, photos, f"--imgsz {args.imgsz} --epochs {args.epochs} --hours {args.hours}")
    print(f"wrote {args.out} ({len(photos)} training files)")


def write_manifest(out: Path, photos: list, options: str) -> None:  # noqa: ANN001 - LabelledPhoto
    """``<out>.fit.json``: the sha256 of every training photo, so ``anshin eval shelf`` leaves them out."""
    from edge.eval.fit_manifest import FitManifest, file_digests

    FitManifest.of(str(out.resolve().relative_to(PROJECT_ROOT)), "trained",
                   f"{len(photos)} files of media/empty_shelf whose source photo is not held out (gaps.dataset.held_out)",
                   f"python -m edge.usecases.shelf.training.train {options}",
                   file_digests(p.path for p in photos)).save(out.with_suffix(".fit.json"))


if __name__ == "__main__":
    main()
