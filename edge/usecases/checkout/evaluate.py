"""``anshin eval faces`` and ``anshin eval checkout``: face verification and the 1:N exit
simulation on an LFW-style pair list, with the shipped decision rule (services.contract.usecases.checkout).

Pair file: CSV with ``label,path1,path2`` (more columns are ignored); paths are relative to the
file's folder; label 1 = same person. A person's name is the folder of the image.

Split by identity so a threshold is never reported on the data it was tuned on: ``--split tune``
keeps pairs whose first person hashes to 0 (sha256 of the name, mod 2), ``--split report`` the
others, ``--split all`` everything. The shipped thresholds were chosen on ``tune`` of lfw_dev.

>>> identity_half("George_W_Bush") in (0, 1)
True
>>> far_frr([0.3, 0.5], [0.4, 0.9], 0.45)
(0.5, 0.5)
>>> # at FAR <= 0.1 of 2 impostors none may pass: the threshold is the closest impostor (0.3)
>>> tar_at_far([0.1, 0.2, 0.5], [0.3, 0.9], 0.1)
(0.6667, 0.3)
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.contract.usecases.checkout import MATCH_THRESHOLD, MIN_MARGIN, REVIEW_THRESHOLD, Candidate, centroid, decide


@dataclass(frozen=True, slots=True)
class Pair:
    same: bool
    path1: str  # relative to the pair file's folder
    path2: str


@dataclass(frozen=True, slots=True)
class Embedded:
    vector: np.ndarray | None  # None: no face found
    side_px: int = 0
    flip_gap: float = 0.0

    @property
    def quality_ok(self) -> bool:
        from edge.usecases.checkout.faces import MAX_FLIP_GAP, MIN_SIDE_PX

        return self.vector is not None and self.side_px >= MIN_SIDE_PX and self.flip_gap <= MAX_FLIP_GAP


def person(path: str) -> str:
    """The identity of an image: its folder name (``images/<Name>/<Name>_0001.jpg``)."""
    return Path(path).parent.name


def identity_half(name: str) -> int:
    """0 (tuning half) or 1 (reporting half), by sha256 of the person's name."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % 2


def read_same_person(path: Path) -> dict[str, str]:
    """A list of names that are one person in a pair list's data (``name,same_as,evidence``; LFW files
    some people under two names): name -> the name it stands for (ValueError names a bad line).

    The 1:N simulation would otherwise count such a person's photo as a stranger charged to a member."""
    out: dict[str, str] = {}
    for line, row in _csv_rows(path, {"name", "same_as", "evidence"}):
        if not row["name"] or not row["same_as"] or not row["evidence"] or row["name"] == row["same_as"]:
            raise ValueError(f"{path}:{line}: give two different names and the evidence that they are one person")
        out[row["name"]] = row["same_as"]
    return out


def _csv_rows(path: Path, columns: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with a header naming at least ``columns``."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = columns - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        yield from enumerate(reader, start=2)


def read_pairs(path: Path, split: str = "all") -> list[Pair]:
    """Pairs of ``path`` (ValueError on a malformed file; names the line)."""
    if split not in ("all", "tune", "report"):
        raise ValueError(f"--split must be all, tune or report, not {split!r}")
    pairs = []
    for line, row in _csv_rows(path, {"label", "path1", "path2"}):
        if row["label"] not in ("0", "1") or not row["path1"] or not row["path2"]:
            raise ValueError(f"{path}:{line}: label must be 0 or 1 and both paths given")
        pair = Pair(row["label"] == "1", row["path1"], row["path2"])
        half = identity_half(person(pair.path1))
        if split == "all" or (split == "tune") == (half == 0):
            pairs.append(pair)
    return pairs


def embed_all(root: Path, paths: Iterable[str], cache: Path | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Embedded]:
    """Each image's flip-averaged embedding; ``cache`` (an .npz) keeps them between runs."""
    from edge.usecases.checkout.faces import embed_subject, load_rgb

    wanted = sorted(set(paths))
    known: dict[str, Embedded] = {}
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            for key, vec, side, gap in zip(z["paths"], z["vectors"], z["sides"], z["gaps"], strict=True):
                unit_vec = vec / max(float(np.linalg.norm(vec)), 1e-9)  # caches written before unit length
                known[str(key)] = Embedded(None if side < 0 else unit_vec.astype(np.float32), int(side), float(gap))
    todo = [p for p in wanted if p not in known]
    for i, rel in enumerate(todo, start=1):
        e = embed_subject(load_rgb(str(root / rel)))
        known[rel] = Embedded(None) if e is None else Embedded(e.vector, e.side_px, e.flip_gap)
        if progress:
            progress(i, len(todo))
    if cache is not None and todo:
        keys = sorted(known)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, paths=np.array(keys), sides=np.array([known[k].side_px if known[k].vector is not None else -1 for k in keys]),
                 gaps=np.array([known[k].flip_gap for k in keys]),
                 vectors=np.stack([known[k].vector if known[k].vector is not None else np.zeros(128, np.float32) for k in keys]))
    return {p: known[p] for p in wanted}


def far_frr(genuine: Sequence[float], impostor: Sequence[float], threshold: float) -> tuple[float, float]:
    """False accept rate (impostor distance < threshold) and false reject rate (genuine >= threshold)."""
    far = sum(d < threshold for d in impostor) / max(len(impostor), 1)
    frr = sum(d >= threshold for d in genuine) / max(len(genuine), 1)
    return round(far, 4), round(frr, 4)


def tar_at_far(genuine: Sequence[float], impostor: Sequence[float], far: float) -> tuple[float, float]:
    """(TAR, threshold) at the largest threshold whose FAR stays <= ``far`` (rejected pairs count inf)."""
    imp = sorted(impostor)
    allowed = int(far * len(imp))  # impostors we may accept
    threshold = imp[allowed] if allowed < len(imp) else float("inf")
    tar = sum(d < threshold for d in genuine) / max(len(genuine), 1)
    return round(tar, 4), round(threshold, 4)


def pair_distances(pairs: Sequence[Pair], emb: dict[str, Embedded], gate: bool) -> tuple[list[float], list[float], int]:
    """Genuine and impostor distances; a pair without a face (or failing the gate) is rejected (inf)."""
    genuine, impostor, no_face = [], [], 0
    for p in pairs:
        a, b = emb[p.path1], emb[p.path2]
        if a.vector is None or b.vector is None:
            no_face += 1
            d = float("inf")
        elif gate and not (a.quality_ok and b.quality_ok):
            d = float("inf")
        else:
            d = float(np.linalg.norm(a.vector - b.vector))
        (genuine if p.same else impostor).append(d)
    return genuine, impostor, no_face


def faces_report(pairs: Sequence[Pair], emb: dict[str, Embedded], threshold: float = MATCH_THRESHOLD, gate: bool = True) -> dict:
    """``{pairs, far, frr, threshold, tar_at_far_1e-3, no_face_found, ...}`` at ``threshold``."""
    genuine, impostor, no_face = pair_distances(pairs, emb, gate)
    far, frr = far_frr(genuine, impostor, threshold)
    tar, at = tar_at_far(genuine, impostor, 1e-3)
    finite_imp = [d for d in impostor if d != float("inf")]
    return {
        "pairs": len(pairs), "matched": len(genuine), "mismatched": len(impostor), "far": far, "frr": frr,
        "threshold": threshold, "tar_at_far_1e-3": tar, "threshold_at_far_1e-3": at, "no_face_found": no_face,
        "quality_gate": gate, "closest_impostor": round(min(finite_imp), 4) if finite_imp else None,
        "false_accepts": sum(d < threshold for d in impostor),
    }


def checkout_simulation(pairs: Sequence[Pair], emb: dict[str, Embedded], enrol: int = 2,
                        threshold: float = MATCH_THRESHOLD, review_threshold: float = REVIEW_THRESHOLD,
                        min_margin: float = MIN_MARGIN, same_person: dict[str, str] | None = None) -> dict:
    """1:N exits. Members: people with more than ``enrol`` usable photos in the pairs (the first
    ``enrol`` sorted photos enrol, as the template :func:`centroid`; each other photo is one member exit). Strangers: everyone else
    (each of their photos is a stranger exit). Liveness is taken as passed (still photos).
    ``same_person`` (:func:`read_same_person`) joins the names that are one person."""
    aliases = same_person or {}
    photos: dict[str, list[str]] = defaultdict(list)
    for p in pairs:
        for path in (p.path1, p.path2):
            who = aliases.get(person(path), person(path))
            if path not in photos[who]:
                photos[who].append(path)
    gallery: dict[str, np.ndarray] = {}
    exits: list[tuple[str | None, str]] = []  # (true member or None, photo)
    for name, paths in sorted(photos.items()):
        usable = sorted(p for p in paths if emb[p].vector is not None)
        if len(usable) > enrol:
            gallery[name] = centroid(np.stack([emb[p].vector for p in usable[:enrol]]))
            exits += [(name, p) for p in usable[enrol:]]
        else:
            exits += [(None, p) for p in paths]
    names = sorted(gallery)
    counts = {"charge_right": 0, "charge_wrong": 0, "review": 0, "ignored_member": 0, "member_exits": 0}
    for truth, path in exits:
        counts["member_exits"] += truth is not None
        e = emb[path]
        if e.vector is None:
            counts["ignored_member"] += truth is not None
            continue  # no face: nobody is charged, the person pays at a till
        dists = sorted((float(np.linalg.norm(gallery[n] - e.vector)), n) for n in names)
        best = Candidate(dists[0][1], dists[0][0]) if dists else None
        second = Candidate(dists[1][1], dists[1][0]) if len(dists) > 1 else None
        d = decide(best, second, quality_ok=e.quality_ok, live=True, threshold=threshold,
                   review_threshold=review_threshold, min_margin=min_margin)
        if d.outcome == "charge":
            counts["charge_right" if d.best and d.best.member_id == truth else "charge_wrong"] += 1
        elif d.outcome == "review":
            counts["review"] += 1
        else:
            counts["ignored_member"] += truth is not None
    n = len(exits)
    return {
        "members": len(gallery), "exits": n, "member_exits": counts["member_exits"], "stranger_exits": n - counts["member_exits"],
        "false_charges": counts["charge_wrong"], "false_charges_per_1000": round(1000 * counts["charge_wrong"] / max(n, 1), 2),
        "auto_charged_ratio": round(counts["charge_right"] / max(counts["member_exits"], 1), 4),
        "sent_to_staff_per_1000": round(1000 * counts["review"] / max(n, 1), 2),
        "members_not_recognised": counts["ignored_member"], "enrol_photos": enrol,
        "threshold": threshold, "review_threshold": review_threshold, "min_margin": min_margin,
        "same_person_names": len(aliases),
    }


def slices(pairs: Sequence[Pair], emb: dict[str, Embedded], key: Callable[[Pair], str], threshold: float = MATCH_THRESHOLD) -> dict:
    """FAR/FRR per slice (``key`` names a pair's slice)."""
    groups: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        groups[key(p)].append(p)
    out = {}
    for name, group in sorted(groups.items()):
        r = faces_report(group, emb, threshold)
        out[name] = {k: r[k] for k in ("pairs", "matched", "mismatched", "far", "frr", "false_accepts", "no_face_found")}
    return out


def print_progress(done: int, total: int) -> None:
    if done == total or done % 100 == 0:
        print(f"embedded {done}/{total} images", file=sys.stderr, flush=True)


def dumps(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True)


def default_cache(pairs_file: Path) -> Path:
    """``var/checkout/embeddings-<sha256 of the pair file, 12>.npz`` (a different file gets a different cache)."""
    return Path("var/checkout") / f"embeddings-{hashlib.sha256(pairs_file.read_bytes()).hexdigest()[:12]}.npz"


def _load(pairs_file: Path, split: str, cache: Path | None, no_cache: bool) -> tuple[list[Pair], dict[str, Embedded]]:
    from edge.eval.options import fail

    try:
        pairs = read_pairs(pairs_file, split)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if not pairs:
        raise fail(f"{pairs_file}: no pairs in split {split!r}")
    missing = [p for q in pairs for p in (q.path1, q.path2) if not (pairs_file.parent / p).is_file()]
    if missing:
        raise fail(f"{pairs_file}: {len(missing)} images missing, e.g. {missing[0]}")
    store = None if no_cache else (cache or default_cache(pairs_file))
    return pairs, embed_all(pairs_file.parent, [p for q in pairs for p in (q.path1, q.path2)], store, print_progress)


def liveness_report(pairs_file: Path, pairs: Sequence[Pair], limit: int) -> dict:
    """Texture cue on live photos and on synthetic re-captures (print, screen) of the same photos."""
    from edge.usecases.checkout.faces import central_box, load_rgb, locate
    from edge.usecases.checkout.liveness import recapture_print, recapture_screen, texture_cue

    paths = sorted({p for q in pairs for p in (q.path1, q.path2)})
    paths = paths[:: max(len(paths) // max(limit, 1), 1)][:limit]
    counts = {"live_passed": 0, "print_caught": 0, "screen_caught": 0, "faces": 0}
    for rel in paths:
        rgb = load_rgb(str(pairs_file.parent / rel))
        box = central_box(locate(rgb), rgb.shape[1], rgb.shape[0])
        if box is None:
            continue
        counts["faces"] += 1
        counts["live_passed"] += texture_cue(rgb, box).live
        counts["print_caught"] += not texture_cue(recapture_print(rgb), box).live
        counts["screen_caught"] += not texture_cue(recapture_screen(rgb), box).live
    n = max(counts["faces"], 1)
    return {"images": counts["faces"], "live_accepted": round(counts["live_passed"] / n, 4),
            "print_attacks_caught": round(counts["print_caught"] / n, 4), "screen_attacks_caught": round(counts["screen_caught"] / n, 4),
            "attacks": "synthetic re-captures of the same photos (no real presentation-attack data)"}


def _typer():  # noqa: ANN202 - imported lazily so the module stays light for tests
    import typer

    return typer


def _detect_options():  # noqa: ANN202 - the YuNet detection check's options (edge/eval/detect.py)
    from edge.eval import detect

    return detect


def faces_command(
    pairs_file: Path | None = _typer().Option(
        None, "--pairs", exists=True, dir_okay=False,
        help="pair CSV: label,path1,path2 (paths relative to it); without it: the YuNet face detection check"),
    split: str = _typer().Option("all", "--split", help="all | tune (identity half the thresholds were chosen on) | report"),
    threshold: float = _typer().Option(MATCH_THRESHOLD, "--threshold", help="distance below which a pair is accepted"),
    no_gate: bool = _typer().Option(False, "--no-gate", help="skip the quality gate (face size, flip consistency)"),
    by_slice: bool = _typer().Option(False, "--slices", help="add FAR/FRR per slice the data allows"),
    liveness: int = _typer().Option(0, "--liveness", help="also run the liveness cue on N images and synthetic re-captures"),
    cache: Path | None = _typer().Option(None, "--cache", help="embedding cache .npz (default var/checkout/embeddings-<sha>.npz)"),
    no_cache: bool = _typer().Option(False, "--no-cache", help="embed every image again, keep nothing"),
    as_json: bool = _typer().Option(False, "--json", help="print one JSON line"),
    score: float = _typer().Option(0.6, "--score", min=0.0, max=1.0, help="without --pairs: YuNet minimum face score"),
    min_size: float = _typer().Option(0.0, "--min-size", min=0.0, help="without --pairs: drop faces smaller than this, pixels"),
    truth: Path = _detect_options()._TRUTH,
    media: Path | None = _detect_options()._MEDIA,
) -> None:
    """With --pairs: face verification (1:1) at the shipped threshold, {pairs, far, frr, threshold,
    tar_at_far_1e-3, no_face_found}. Without: YuNet faces on the annotated photos (use case A's check)."""
    if pairs_file is None:
        _detect_options().faces_command(score=score, min_size=min_size, truth=truth, media=media, as_json=as_json)
        return
    pairs, emb = _load(pairs_file, split, cache, no_cache)
    report = faces_report(pairs, emb, threshold, gate=not no_gate)
    report["split"] = split
    report["tuned_on"] = "lfw_dev identity half 'tune'" + (" (this split)" if split in ("tune", "all") else " (not this split)")
    if by_slice:
        photos = _photos_per_person(pairs)
        report["slices"] = {"photos_of_person": slices(pairs, emb, lambda p: _bucket(photos[person(p.path1)]), threshold)}
        report["slices_note"] = ("LFW carries no demographic labels (age, sex, skin tone): only how many photos of the person "
                                 "the list holds can be sliced. Fairness across demographic groups cannot be shown with this data.")
    if liveness:
        report["liveness"] = liveness_report(pairs_file, pairs, liveness)
    print(dumps(report) if as_json else json.dumps(report, indent=2, sort_keys=True))


def _photos_per_person(pairs: Sequence[Pair]) -> dict[str, int]:
    seen: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        for path in (p.path1, p.path2):
            seen[person(path)].add(path)
    return {name: len(paths) for name, paths in seen.items()}


def _bucket(n: int) -> str:
    """The slice of a person with ``n`` photos in the list.

    >>> _bucket(1), _bucket(3), _bucket(9)
    ('1_photo', '2_4_photos', '5plus_photos')
    """
    return "1_photo" if n <= 1 else "2_4_photos" if n <= 4 else "5plus_photos"


def checkout_command(
    pairs_file: Path = _typer().Option(..., "--pairs", exists=True, dir_okay=False, help="pair CSV: label,path1,path2"),
    split: str = _typer().Option("all", "--split", help="all | tune | report"),
    enrol: int = _typer().Option(2, "--enrol", min=1, max=3, help="enrolment photos per member (1-3); members need one more photo to exit"),
    cache: Path | None = _typer().Option(None, "--cache", help="embedding cache .npz"),
    no_cache: bool = _typer().Option(False, "--no-cache"),
    same_person: Path | None = _typer().Option(
        None, "--same-person", exists=True, dir_okay=False,
        help="CSV name,same_as,evidence: names that are one person (lfw_dev: models/eval/lfw_dev_same_person.csv)"),
    as_json: bool = _typer().Option(False, "--json", help="print one JSON line"),
) -> None:
    """1:N exits with the shipped rule: {members, exits, false_charges_per_1000, auto_charged_ratio, sent_to_staff_per_1000}."""
    from edge.eval.options import fail

    try:
        aliases = read_same_person(same_person) if same_person else None
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from exc
    pairs, emb = _load(pairs_file, split, cache, no_cache)
    report = checkout_simulation(pairs, emb, enrol, same_person=aliases)
    report["split"] = split
    print(dumps(report) if as_json else json.dumps(report, indent=2, sort_keys=True))
