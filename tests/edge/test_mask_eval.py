"""`anshin eval mask` on a sample of facemask_dev, the metrics, and the training helpers.

facemask_dev is the head's training set (models/weights/anshin_mask_head_v1.fit.json), so the
accuracy asserted here on its images is a memorisation check: it catches a broken pipeline or head
file, not a drop in accuracy on unseen faces. Unseen-image checks: tests/edge/usecases/test_mask_scenes.py;
the honest figure is the grouped cross-validation in models/cards/anshin_mask_head.md.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from edge.paths import media_dir
from edge.usecases.entrance.masks.logistic_head import fit_head
from edge.usecases.entrance.masks.metrics import binary_figures, light_bucket, size_bucket, slice_recalls
from edge.usecases.entrance.masks.training.dataset import duplicate_groups, list_items, read_image
from edge.usecases.entrance.masks.training.train import group_folds

DEV = media_dir() / "facemask_dev"
# A real masked face that YuNet cannot find (46x63 px): the whole image must be classified instead.
NO_FACE_IMAGE = "with_mask/0_0_1 copy 26.jpg"


@pytest.fixture(scope="module")
def cli():
    from anshin.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["eval", "mask", *args])


def test_memorisation_check_eval_mask_on_training_images_reports_the_figures_and_flags_them(cli):
    """Memorisation check: 60 training images must score as trained, and the JSON says they were trained on."""
    result = cli("--dataset", str(DEV), "--limit", "60", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"n", "balanced_accuracy", "recall_with_mask", "recall_without_mask", "no_face_found"} <= out.keys()
    assert out["n"] == 60 and out["n_with_mask"] > 20 and out["n_without_mask"] > 20
    assert out["balanced_accuracy"] >= 0.95  # in-sample; the cross-validated figure is in models/cards/anshin_mask_head.md
    assert out["fitted_on_this_data"] is True and out["fitted_overlap"] == 1.0
    kinds = {(row["slice"], row["bucket"]) for row in out["slices"]}
    assert ("class", "all") in kinds and any(k == "size" for k, _ in kinds) and any(k == "lighting" for k, _ in kinds)


def test_memorisation_check_an_image_without_a_detectable_face_is_classified_whole_and_counted(cli, tmp_path):
    """Both images are training images (flagged as such): this checks the no-face path, not accuracy."""
    (tmp_path / "with_mask").mkdir()
    (tmp_path / "without_mask").mkdir()
    shutil.copy(DEV / NO_FACE_IMAGE, tmp_path / "with_mask" / "a.jpg")
    shutil.copy(sorted((DEV / "without_mask").glob("*.jpg"))[0], tmp_path / "without_mask" / "b.jpg")
    result = cli("--dataset", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["n"] == 2 and out["no_face_found"] >= 1
    assert out["recall_with_mask"] == 1.0
    assert out["fitted_on_this_data"] is True


def test_a_folder_without_the_class_folders_is_a_clear_error(cli, tmp_path):
    result = cli("--dataset", str(tmp_path))
    assert result.exit_code == 2
    assert "with_mask" in result.output


def test_unknown_classifier_is_named(cli, tmp_path):
    result = cli("--dataset", str(DEV), "--classifier", "resnet")
    assert result.exit_code == 2 and "resnet" in result.output


@pytest.mark.parametrize(("y", "pred", "ba", "r1", "r0"), [
    pytest.param([1, 1, 0, 0], [1, 1, 0, 0], 1.0, 1.0, 1.0, id="perfect"),
    pytest.param([1, 1, 1, 1, 0], [1, 1, 1, 1, 1], 0.5, 1.0, 0.0, id="always 'mask' is no better than chance"),
    pytest.param([1, 0, 0, 0], [0, 0, 0, 1], 0.3333, 0.0, 0.6667, id="imbalanced"),
])
def test_balanced_accuracy_is_the_mean_of_class_recalls(y, pred, ba, r1, r0):
    assert binary_figures(y, pred) == {"balanced_accuracy": ba, "recall_with_mask": r1, "recall_without_mask": r0}


def test_slices_show_a_weak_bucket():
    rows = slice_recalls([1, 1, 1, 1], [1, 1, 0, 0], {"lighting": ["normal", "normal", "dark", "dark"]})
    assert {(r["bucket"], r["recall"]) for r in rows} == {("normal", 1.0), ("dark", 0.0)}
    assert [size_bucket(30, 200), size_bucket(64, 64), size_bucket(200, 300), size_bucket(300, 300)] == [
        "<64px", "64-127px", "128-255px", ">=256px"]
    assert [light_bucket(10), light_bucket(100), light_bucket(200)] == ["dark", "normal", "bright"]


def test_byte_identical_copies_share_a_group_and_a_fold(tmp_path):
    items = list_items(DEV)[:40]
    from edge.usecases.entrance.masks.training.dataset import dhash64, sha256_file

    hashes = [dhash64(read_image(i.path)) for i in items]
    digests = [sha256_file(i.path) for i in items]
    # a copy of the first image under another name
    hashes.append(hashes[0])
    digests.append(digests[0])
    groups = duplicate_groups(hashes, digests)
    assert groups[-1] == groups[0]
    folds = group_folds(groups, 5, seed=1)
    assert folds[-1] == folds[0]
    assert set(folds.tolist()) == {0, 1, 2, 3, 4}


def test_training_the_head_is_deterministic():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-1, 1, (30, 5)), rng.normal(1, 1, (20, 5))])
    y = np.r_[np.zeros(30), np.ones(20)]
    a, b = fit_head(x, y, c=0.1), fit_head(x, y, c=0.1)
    assert np.array_equal(a.w, b.w) and a.b == b.b
    assert binary_figures(y, a.predict(x) >= 0.5)["balanced_accuracy"] > 0.85
