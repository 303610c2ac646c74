"""Where the shelf-gap detector's weights come from: random init, not the SKU-110K checkpoint.

The card and the manifest give ``anshin_shelf_gap`` the licence of its training data only, because it
was trained from scratch. These tests hold that claim to the code and to the committed weights: the
training script starts from the seeded architecture, and the shipped conv tensors do not correlate
with the research-only SKU-110K checkpoint's same-named tensors (a fine-tune from it would).
"""

from __future__ import annotations

import pickle
import statistics
import sys
import types
from pathlib import Path

import pytest
import torch

from edge.paths import media_dir, models_dir
from edge.usecases.shelf.gaps.dataset import held_out, source_photo
from edge.usecases.shelf.gaps.detectors import GAP_WEIGHTS
from edge.usecases.shelf.training import train

SKU110K = models_dir() / "sku110k_yolov5n_DavidK0.pt"
DATA = media_dir() / "empty_shelf"


def yolov5_repo_pickle() -> types.ModuleType:
    """A pickle module that reads a yolov5-repo checkpoint without the yolov5 package.

    Its module classes become bare nn.Modules, which still restore their parameters and buffers.
    """
    import torch.nn as nn

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's protocol
            if module.startswith(("models", "utils")):
                return type(name, (nn.Module,), {})
            return super().find_class(module, name)

    mod = types.ModuleType("yolov5_repo_pickle")
    mod.Unpickler = Unpickler  # type: ignore[attr-defined]
    mod.load = pickle.load  # type: ignore[attr-defined]
    return mod


def conv_correlations(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[float]:
    """Pearson r between same-named, same-shaped conv weights of two state dicts."""
    out = []
    for name, x in a.items():
        y = b.get(name)
        if name.endswith("conv.weight") and y is not None and y.shape == x.shape and x.numel() > 1:
            out.append(torch.corrcoef(torch.stack([x.flatten().double(), y.flatten().double()]))[0, 1].item())
    return out


@pytest.mark.skipif(not SKU110K.is_file(), reason="SKU-110K checkpoint not available")
def test_the_committed_gap_weights_are_not_the_sku110k_backbone() -> None:
    sku = torch.load(SKU110K, map_location="cpu", weights_only=False, pickle_module=yolov5_repo_pickle())
    sku_sd = sku["model"].float().state_dict()
    ckpt = torch.load(GAP_WEIGHTS, map_location="cpu", weights_only=False)
    shipped = (ckpt.get("ema") or ckpt["model"]).float().state_dict()

    assert conv_correlations(sku_sd, sku_sd)[0] == pytest.approx(1.0)  # the measure sees a copy
    r = conv_correlations(shipped, sku_sd)
    assert len(r) >= 50  # the whole YOLOv5n backbone and neck was compared
    assert abs(statistics.median(r)) < 0.1, f"median r {statistics.median(r):.3f}: inherits SKU-110K weights?"


class StopAtTrainStart(Exception):
    """Raised from Ultralytics' on_train_start: the model is built, no step has run."""


@pytest.mark.skipif(not DATA.is_dir(), reason="media/empty_shelf not available")
def test_training_starts_from_the_seeded_architecture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ultralytics.engine.trainer import BaseTrainer
    from ultralytics.nn.tasks import DetectionModel

    dataset = tmp_path / "data"
    for sub in ("images", "labels"):
        (dataset / sub).mkdir(parents=True)
    images = [p for p in sorted((DATA / "images").glob("*.jpg")) if not held_out(source_photo(p.name))][:4]
    for image in images:
        (dataset / "images" / image.name).symlink_to(image)
        (dataset / "labels" / f"{image.stem}.txt").symlink_to(DATA / "labels" / f"{image.stem}.txt")

    seen: dict = {}
    run_callbacks = BaseTrainer.run_callbacks

    def stop_at_train_start(self: BaseTrainer, event: str) -> None:
        if event == "on_train_start":
            seen["state"] = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            seen["args"] = self.args
            raise StopAtTrainStart
        run_callbacks(self, event)

    monkeypatch.setattr(BaseTrainer, "run_callbacks", stop_at_train_start)
    out = tmp_path / "gap.pt"
    argv = ["train", "--dataset", str(dataset), "--work", str(tmp_path / "work"), "--out", str(out), "--epochs", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(StopAtTrainStart):
        train.main()

    assert seen["args"].pretrained is False
    assert seen["args"].seed == train.SEED
    torch.manual_seed(train.SEED)  # what Ultralytics' init_seeds does before it builds the model (RANK -1)
    fresh = DetectionModel(train.ARCHITECTURE, nc=1, verbose=False).state_dict()
    assert fresh.keys() == seen["state"].keys()
    assert all(torch.equal(fresh[k], seen["state"][k]) for k in fresh)
    assert not out.exists()
