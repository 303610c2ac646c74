"""Fine-tune the COCO person detector on one camera's own labelled frames (MOTChallenge ground truth).

A camera sees one scene all its life: the lamp post that hides half a person, the group that merges
into one blob. A few hundred labelled frames of that scene teach the detector what the general COCO
model misses there, which is what the tracker needs (missed and merged boxes are most of its
errors). The result is a drop-in for the source model: same architecture, same 80 outputs (only
``person`` is labelled; the camera keeps only that class), int8 ONNX for the edge.

Steps, all from the command line below:

1. frames ``--frames FIRST-LAST`` of ``--video`` → JPEG + YOLO labels from ``--gt`` (every box,
   MOTChallenge's ignore flag included: an ambiguous person is still a person to detect);
2. the float model recovered from the published int8 file (:mod:`edge.detectors.training.from_int8`);
3. ultralytics training (seeded; no validation pass: nothing is chosen on other frames here);
4. ONNX export at the live input size and onnxruntime dynamic int8 quantisation, like the source;
5. ``<out>.fit.json``: one digest per trained frame (``frame_digest``), so ``anshin eval track``
   says ``fitted_on_this_data`` on them.

    python -m edge.detectors.training.camera_finetune --frames 1-200 --device 0 --batch 32 --workers 12 --out var/train/pets_1_200

Needs torch, ultralytics and onnx (all in the project's install); a GPU is optional (``--device 0``,
about a minute for 40 epochs of 200 frames; the 2-core CPU takes 40-50 minutes at 416-480 px). What it gave on
the PETS camera, and why the demo does not use it: models/cards/yolo11n_int8.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np

from edge.eval.fit_manifest import frame_digest
from edge.models_registry import sha256_file
from edge.paths import PROJECT_ROOT, media_dir, models_dir

SEED = 20261130


def read_mot(gt: Path) -> dict[int, list[tuple[float, float, float, float]]]:
    """``{frame: [(left, top, width, height), ...]}`` from a MOTChallenge ``gt.txt`` (all flags)."""
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    for number, line in enumerate(gt.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(",")
        try:
            frame, left, top, width, height = int(fields[0]), *map(float, fields[2:6])
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{gt}:{number}: not a MOTChallenge row ({exc})") from exc
        boxes.setdefault(frame, []).append((left, top, width, height))
    return boxes


def yolo_label(boxes: list[tuple[float, float, float, float]], width: int, height: int) -> str:
    """YOLO label lines (class 0, normalised centre and size), boxes clipped to the frame.

    >>> yolo_label([(0, 0, 10, 20), (95, 0, 10, 10)], 100, 100)
    '0 0.050000 0.100000 0.100000 0.200000\\n0 0.975000 0.050000 0.050000 0.100000\\n'
    """
    lines = []
    for left, top, w, h in boxes:
        x0, y0 = max(0.0, left), max(0.0, top)
        x1, y1 = min(float(width), left + w), min(float(height), top + h)
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        lines.append(f"0 {(x0 + x1) / 2 / width:.6f} {(y0 + y1) / 2 / height:.6f} "
                     f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}\n")
    return "".join(lines)


def write_dataset(video: Path, gt: Path, first: int, last: int, work: Path) -> list[np.ndarray]:
    """JPEG frames + labels under ``work/images``, ``work/labels``; returns the frames (BGR)."""
    import cv2

    truth = read_mot(gt)
    images, labels = work / "images", work / "labels"
    for folder in (images, labels):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    capture = cv2.VideoCapture(str(video))
    frames = []
    for frame in range(1, last + 1):
        ok, image = capture.read()
        if not ok:
            raise ValueError(f"{video}: ends at frame {frame - 1}, before frame {last}")
        if frame < first:
            continue
        if frame not in truth:
            raise ValueError(f"{gt}: no boxes for frame {frame}; train only on frames the truth covers")
        name = f"frame_{frame:04d}"
        cv2.imwrite(str(images / f"{name}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        (labels / f"{name}.txt").write_text(yolo_label(truth[frame], image.shape[1], image.shape[0]))
        frames.append(image)
    capture.release()
    return frames


def quantise(fp32: Path, out: Path) -> Path:
    """onnxruntime dynamic quantisation, uint8 weights like the source model.

    uint8 rather than int8 weights: on CPUs without VNNI onnxruntime's u8u8 convolution kernels
    ran 3.3x faster (69 vs 21 ms per 320 px frame on one thread, measured on this project's 2-core box).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QUInt8)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=media_dir() / "pets2009_vtest_480x360.mp4")
    parser.add_argument("--gt", type=Path, default=media_dir() / "pets2009_gt/gt_480x360_frames0001-0400.txt")
    parser.add_argument("--frames", default="1-400", help="FIRST-LAST, 1-based, both included")
    parser.add_argument("--source", type=Path, default=models_dir() / "yolo11n_int8.onnx")
    parser.add_argument("--yaml", default="yolo11n.yaml", help="the source model's architecture")
    parser.add_argument("--imgsz", type=int, default=320, help="the camera's live input size")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu, or a CUDA index such as 0")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads for CPU training (ultralytics would keep one core idle for its loaders)")
    parser.add_argument("--freeze", type=int, default=0,
                        help="keep the first N layers (and their BatchNorm statistics) as recovered; 23 = all but the head")
    parser.add_argument("--lr0", type=float, default=0.001, help="SGD learning rate (no warm-up: the start is a trained model)")
    parser.add_argument("--mosaic", type=float, default=0.0, help="mosaic probability (0: keep the camera's own scale)")
    parser.add_argument("--scale", type=float, default=0.25,
                        help="random resize of +-this share: people nearer the camera than any labelled one need a larger one")
    parser.add_argument("--save-period", type=int, default=-1, help="also keep a checkpoint every N epochs")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "var/train/camera")
    parser.add_argument("--out", type=Path, required=True, help="output path without suffix: writes .pt, .onnx, .fit.json")
    args = parser.parse_args()

    from ultralytics import YOLO
    from ultralytics.utils import torch_utils

    # ultralytics sets torch to cpu_count - 1 threads on CPU: on a 2-core box that halves training speed,
    # while the frames are cached in RAM and the loaders have little to do.
    torch_utils.NUM_THREADS, library_threads = max(1, args.threads), torch_utils.NUM_THREADS

    from edge.eval.track import parse_frame_range

    try:
        first, last = parse_frame_range(args.frames)
    except ValueError as exc:
        parser.error(str(exc))

    from edge.detectors.training.from_int8 import build, class_names, save_checkpoint
    from edge.eval.fit_manifest import FitManifest

    work = args.work.resolve()
    frames = write_dataset(args.video, args.gt, first, last, work)
    print(f"dataset: {len(frames)} frames {first}-{last} of {args.video.name}", flush=True)
    names = class_names(args.source)
    init = save_checkpoint(build(args.source, args.yaml, len(names), frames[:: max(1, len(frames) // 16)], args.imgsz),
                           names, work / "init.pt", args.imgsz)
    data = work / "data.yaml"
    data.write_text(f"path: {work}\ntrain: images\nval: images\nnames: {names!r}\n")
    model = YOLO(str(init), task="detect")
    try:
        model.train(data=str(data), imgsz=args.imgsz, epochs=args.epochs, batch=args.batch, workers=args.workers,
                    device=args.device, seed=SEED, deterministic=True, val=False, cache="ram",
                    save_period=args.save_period, freeze=args.freeze or None, optimizer="SGD", lr0=args.lr0,
                    warmup_epochs=0, mosaic=args.mosaic, close_mosaic=0, scale=args.scale, plots=False, amp=False,
                    project=str(work), name="run", exist_ok=True, pretrained=True, verbose=False)
    finally:
        torch_utils.NUM_THREADS = library_threads  # the process may train again (tests do)
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    trained = work / "run/weights/last.pt"
    shutil.copyfile(trained, out.with_suffix(".pt"))
    fp32 = Path(YOLO(str(trained)).export(format="onnx", imgsz=args.imgsz, opset=12, simplify=False, dynamic=False))
    onnx_out = quantise(fp32, out.with_suffix(".onnx"))
    video_sha = sha256_file(args.video)
    FitManifest.of(str(onnx_out.relative_to(PROJECT_ROOT) if onnx_out.is_relative_to(PROJECT_ROOT) else onnx_out),
                   "trained",
                   f"frames {first}-{last} of {args.video.name} (sha256 {video_sha[:12]}), boxes from {args.gt.name}",
                   f"python -m edge.detectors.training.camera_finetune --frames {args.frames} --epochs {args.epochs} "
                   f"--batch {args.batch} --imgsz {args.imgsz} --freeze {args.freeze} --lr0 {args.lr0} --mosaic {args.mosaic} "
                   f"--scale {args.scale}",
                   (frame_digest(video_sha, f) for f in range(first, last + 1))).save(out.with_suffix(".fit.json"))
    print(f"wrote {onnx_out} ({onnx_out.stat().st_size} bytes), "
          f"{out.with_suffix('.pt')}, {out.with_suffix('.fit.json')}")


if __name__ == "__main__":
    main()
