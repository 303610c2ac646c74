"""Recover a trainable ultralytics model from a dynamically quantised YOLO ONNX export.

The published COCO detectors we may ship come only as int8 ONNX files (models/manifest.yaml). Their
graphs keep ultralytics' parameter names (``model.4.m.0.cv1.conv.weight_quantized``, ``..._scale``,
``..._zero_point``, ``model.4.m.0.cv1.conv.bias``), with every BatchNorm folded into its convolution.
So the float weights are ``(q - zero_point) * scale``, and a fresh ``DetectionModel`` built from the
same yaml takes them by name. Each folded BatchNorm is restored as a near-identity: its running
statistics are measured on sample images and gamma/beta set so that the layer passes its input
through plus the folded bias, in eval mode exactly and in training mode (batch statistics) nearly.
That keeps the COCO features intact when fine-tuning starts.

    python -m edge.detectors.training.from_int8 --onnx yolo11n_int8.onnx --yaml yolo11n.yaml --out init.pt
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def dequantised_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    """``{parameter name: float32 array}`` for every quantised weight and float bias in the graph."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name.endswith(".weight_quantized"):
            base = name.removesuffix("_quantized")
            scale = tensors[base + "_scale"].astype(np.float32)
            zero = tensors[base + "_zero_point"].astype(np.float32)
            if scale.ndim == 1 and scale.size > 1:  # per output channel
                shape = (-1,) + (1,) * (value.ndim - 1)
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            out[base] = (value.astype(np.float32) - zero) * scale
        elif name.endswith(".bias") and name.startswith("model."):
            out[name] = value.astype(np.float32)
    return out


def class_names(onnx_path: Path) -> dict[int, str]:
    """The export's class names (ultralytics writes them to the ONNX metadata as a dict literal)."""
    import ast

    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_path), load_external_data=False).metadata_props}
    return {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()}


def build(onnx_path: Path, yaml: str, n_classes: int, sample_images: Iterable[np.ndarray], imgsz: int):
    """A ``DetectionModel`` of ``yaml`` with all ``n_classes`` of the source model and its weights.

    All classes stay (the class branch's width depends on their number), so a fine-tuned model
    is a drop-in for the source file; training data that labels only some classes teaches the
    others as background, which a camera that keeps only those classes never reads.
    ``sample_images`` (BGR) calibrate the restored BatchNorm layers. Raises ``ValueError`` when a
    parameter of the model has no counterpart in the graph (a different architecture).
    """
    import torch
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    weights = dequantised_weights(onnx_path)
    model = DetectionModel(yaml, nc=n_classes, verbose=False).eval()
    convs = {name: m for name, m in model.named_modules() if isinstance(m, Conv)}
    with torch.no_grad():
        for key, module in model.named_modules():  # names match the graph's: model.<layer>.<path>
            if not isinstance(module, torch.nn.Conv2d) or key.endswith("dfl.conv"):
                continue
            if key + ".weight" not in weights:
                raise ValueError(f"{onnx_path.name} has no weight for {key}: not a {yaml} export")
            w = torch.from_numpy(weights[key + ".weight"])
            if w.shape != module.weight.shape:
                raise ValueError(f"{onnx_path.name}: {key} is {tuple(w.shape)}, {yaml} wants "
                                 f"{tuple(module.weight.shape)}: not a {yaml} export")
            owner = key.removesuffix(".conv")
            bias = torch.from_numpy(weights.get(key + ".bias", np.zeros(w.shape[0], np.float32)))
            module.weight.copy_(w)
            if module.bias is not None:
                module.bias.copy_(bias)
            elif owner in convs:
                _bias_only_batchnorm(convs[owner].bn, bias)
            else:
                raise ValueError(f"{key} has neither a bias nor a BatchNorm to take the folded bias")
    _calibrate_batchnorm(model, convs, sample_images, imgsz)
    return model


def _bias_only_batchnorm(bn, bias) -> None:  # noqa: ANN001 - torch modules
    bn.weight.fill_(1.0)
    bn.bias.copy_(bias)
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)


def _calibrate_batchnorm(model, convs: dict, images: Iterable[np.ndarray], imgsz: int) -> None:  # noqa: ANN001
    """Make each BatchNorm pass ``x + bias`` on, in eval mode exactly, with its input's real statistics."""
    import torch

    from edge.detectors.convert import letterbox

    blobs = [letterbox(image, imgsz)[0] for image in images]
    if not blobs:
        raise ValueError("BatchNorm calibration needs at least one sample image")
    x = torch.from_numpy(np.concatenate(blobs))
    stats: dict[str, tuple] = {}
    hooks = [conv.conv.register_forward_hook(_recorder(stats, name)) for name, conv in convs.items()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for name, conv in convs.items():
            mean, var = stats[name]
            bn = conv.bn
            # Rescale the convolution to unit output variance (how BatchNorm nets are trained), so the
            # statistics stay small enough for the half-precision checkpoints ultralytics writes.
            sigma = torch.sqrt(var + bn.eps)
            conv.conv.weight.div_(sigma.view(-1, 1, 1, 1))
            folded_bias = bn.bias.clone()  # set by _bias_only_batchnorm
            bn.running_mean.copy_(mean / sigma)
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.copy_(sigma)
            bn.bias.copy_(mean + folded_bias)


def _recorder(stats: dict, name: str):  # noqa: ANN202
    def hook(_module, _inputs, output) -> None:  # noqa: ANN001
        stats[name] = (output.mean(dim=(0, 2, 3)), output.var(dim=(0, 2, 3), unbiased=False))

    return hook


def save_checkpoint(model, names: dict[int, str], out: Path, imgsz: int) -> Path:  # noqa: ANN001
    """An ultralytics checkpoint that ``YOLO(out).train(...)`` fine-tunes."""
    import torch

    model.names = names
    model.args = {"imgsz": imgsz}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model, "train_args": {}, "epoch": -1}, out)
    return out


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx", type=Path, required=True)
    parser.add_argument("--yaml", default="yolo11n.yaml")
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="BGR sample images for BatchNorm")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    names = class_names(args.onnx)
    model = build(args.onnx, args.yaml, len(names), (cv2.imread(str(p)) for p in args.images), args.imgsz)
    print(save_checkpoint(model, names, args.out, args.imgsz))


if __name__ == "__main__":
    main()
