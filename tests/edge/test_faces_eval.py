"""``anshin eval faces`` / ``anshin eval checkout`` on a small LFW pair list (real images, real
model): the JSON has the documented keys and sane values; a malformed list is a clear error."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anshin.cli import app
from edge.paths import media_dir

LFW = media_dir() / "lfw_dev"
pytestmark = pytest.mark.skipif(not (LFW / "pairs.csv").is_file(), reason="shared data not present")


@pytest.fixture(scope="module")
def small_pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 matched + 4 mismatched pairs of lfw_dev, the paths pointing back at the shared images."""
    with (LFW / "pairs.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    chosen = [r for r in rows if r["label"] == "1"][:4] + [r for r in rows if r["label"] == "0"][:4]
    out = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["label", "path1", "path2"])
        w.writerows([r["label"], str(LFW / r["path1"]), str(LFW / r["path2"])] for r in chosen)
    return out


def test_eval_faces_and_checkout_json(small_pairs: Path, tmp_path: Path) -> None:
    cache = tmp_path / "emb.npz"
    r = CliRunner().invoke(app, ["eval", "faces", "--pairs", str(small_pairs), "--cache", str(cache), "--slices", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"pairs", "far", "frr", "threshold", "tar_at_far_1e-3", "no_face_found"} <= set(doc)
    assert doc["pairs"] == 8 and doc["matched"] == 4 and 0 <= doc["far"] <= 1 and 0 <= doc["frr"] <= 1
    assert doc["far"] == 0.0  # 4 different-person pairs: none accepted at the shipped threshold
    assert "demographic" in doc["slices_note"]
    assert cache.is_file()  # the second command reads the embeddings from it
    r = CliRunner().invoke(app, ["eval", "checkout", "--pairs", str(small_pairs), "--cache", str(cache), "--json"])
    assert r.exit_code == 0, r.output
    sim = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"members", "exits", "false_charges_per_1000", "auto_charged_ratio", "sent_to_staff_per_1000"} <= set(sim)
    assert sim["exits"] > 0 and sim["false_charges_per_1000"] == 0


def test_a_malformed_pair_list_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("label,path1,path2\n2,a.jpg,b.jpg\n")
    r = CliRunner().invoke(app, ["eval", "faces", "--pairs", str(bad), "--json"])
    assert r.exit_code != 0 and "label must be 0 or 1" in r.output
    bad.write_text("label,path1\n1,a.jpg\n")
    r = CliRunner().invoke(app, ["eval", "faces", "--pairs", str(bad), "--json"])
    assert r.exit_code != 0 and "missing columns" in r.output


def test_a_person_filed_under_two_names_is_one_member_not_a_charged_stranger(tmp_path: Path) -> None:
    import numpy as np

    from edge.usecases.checkout.evaluate import Embedded, Pair, checkout_simulation, read_same_person

    def unit(*v: float) -> np.ndarray:
        x = np.array(v + (0.0,) * (128 - len(v)), np.float32)
        return x / np.linalg.norm(x)

    emb = {"images/A/A_1.jpg": unit(1, 0.01), "images/A/A_2.jpg": unit(1, -0.01), "images/A/A_3.jpg": unit(1, 0.02),
           "images/A_Long/A_Long_1.jpg": unit(1, 0.03),  # the same face under a second name
           "images/B/B_1.jpg": unit(0, 1), "images/B/B_2.jpg": unit(0.01, 1), "images/B/B_3.jpg": unit(-0.01, 1)}
    emb_q = {k: Embedded(v, side_px=100, flip_gap=0.1) for k, v in emb.items()}
    pairs = [Pair(True, "images/A/A_1.jpg", "images/A/A_2.jpg"), Pair(True, "images/A/A_3.jpg", "images/A/A_1.jpg"),
             Pair(False, "images/A_Long/A_Long_1.jpg", "images/B/B_1.jpg"),
             Pair(True, "images/B/B_2.jpg", "images/B/B_3.jpg")]
    plain = checkout_simulation(pairs, emb_q, enrol=2)
    assert plain["false_charges"] == 1 and plain["stranger_exits"] == 1
    same = tmp_path / "same.csv"
    same.write_text("name,same_as,evidence\nA_Long,A,the same face\n")
    joined = checkout_simulation(pairs, emb_q, enrol=2, same_person=read_same_person(same))
    assert joined["false_charges"] == 0 and joined["stranger_exits"] == 0 and joined["auto_charged_ratio"] == 1.0
    same.write_text("name,same_as,evidence\nA_Long,A,\n")
    with pytest.raises(ValueError, match="same.csv:2"):
        read_same_person(same)
