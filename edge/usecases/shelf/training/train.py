"""Fine-tune the shelf-gap detector: SKU-110K YOLOv5n backbone + neck, new anchor-free head, 1 class.

Seeded and bounded for a CPU: the published SKU-110K YOLOv5n checkpoint (products on shelves) gives
the backbone and neck (342 tensors copied by name into ultralytics ``yolov5nu.yaml``, which keeps
the YOLOv5 backbone and neck); only the detect head starts fresh. Photos whose source photo is
held out (``gaps.dataset.held_out``) never reach training; ``anshin eval shelf`` scores them.

    nice -n 10 .venv/bin/python -m edge.usecases.shelf.training.train --out models/weights/anshin_shelf_gap_v1.pt

writes the weights and ``<out>.fit.json`` (sha256 of every training photo).
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import types
from pathlib import Path

from edge.paths import PROJECT_ROOT, media_dir, models_dir
from edge.usecases.shelf.gaps.dataset import load

SEED = 20261130


def _stub_unpickler() -> types.ModuleType:
    """A pickle module that loads a yolov5-repo checkpoint without the yolov5 package.

    The checkpoint pickles yolov5's own module classes; any nn.Module subclass restores their
    parameters and buffers, which is all we copy.
    """
    import torch.nn as nn

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's protocol
            if module.startswith(("models", "utils")):
                return type(name, (nn.Module,), {})
            return super().find_class(module, name)

    mod = types.ModuleType("yolov5_stub_pickle")
    mod.Unpickler = Unpickler  # type: ignore[attr-defined]
    mod.load = pickle.load  # type: ignore[attr-defined]
    return mod


def initial_checkpoint(out: Path) -> Path:
    """Write an ultralytics checkpoint: yolov5nu (nc=1) with the SKU-110K backbone and neck."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    source = models_dir() / "sku110k_yolov5n_DavidK0.pt"
    old = torch.load(source, map_location="cpu", weights_only=False, pickle_module=_stub_unpickler())
    old_sd = old["model"].float().state_dict()
    torch.manual_seed(SEED)
    model = DetectionModel("yolov5nu.yaml", nc=1, verbose=False)
    new_sd = model.state_dict()
    copied = {k: v for k, v in old_sd.items() if k in new_sd and new_sd[k].shape == v.shape}
    if len(copied) < 300:
        raise RuntimeError(f"only {len(copied)} tensors matched; expected the whole backbone and neck")
    model.load_state_dict(copied, strict=False)
    model.names = {0: "empty_shelf"}
    model.args = {"imgsz": 640}
    torch.save({"model": model, "train_args": {}, "epoch": -1}, out)
    print(f"initial checkpoint: {len(copied)} tensors from {source.name}")
    return out


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
    init = initial_checkpoint(args.work / "init.pt")
    model = YOLO(str(init), task="detect")
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
