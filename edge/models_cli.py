"""``anshin models ...``: inspect and verify the model files the manifest lists."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from edge.models_registry import MANIFEST_PATH, ManifestError, load_manifest, unlisted_files, verify
from edge.paths import models_dir

models_app = typer.Typer(help="Model registry (models/manifest.yaml): list and verify model files.", no_args_is_help=True)

_MODELS_DIR = typer.Option(None, "--models-dir", help="folder holding the model files; default $ANSHIN_MODELS_DIR, else ../shared/data/models")
_MANIFEST = typer.Option(MANIFEST_PATH, "--manifest", help="manifest file to check against")


@models_app.command("verify")
def verify_command(
    models_dir_: Path | None = _MODELS_DIR,
    manifest_path: Path = _MANIFEST,
    name: list[str] = typer.Option([], "--name", "-n", help="check only this model (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of text lines"),
) -> None:
    """Check every listed model file for presence, size and sha256.

    Published files are looked for in the models directory; weights trained here and committed
    (``location: repo``) under models/ in this repository. Prints one line per file: ok, missing
    (with the public source to fetch it from, or how to restore a committed one), wrong size or
    wrong hash. Exits 1 on any problem, 2 when the manifest itself is invalid.
    """
    folder = models_dir_ or models_dir()
    try:
        manifest = load_manifest(manifest_path)
        checks = verify(manifest, folder, name or None)
    except (ManifestError, KeyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    problems = [c for c in checks if not c.ok]
    if as_json:
        typer.echo(json.dumps({
            "models_dir": str(folder),
            "repo_dir": str(manifest.base_dir),
            "ok": not problems,
            "files": [{"model": c.model, "file": c.file, "location": c.location, "path": str(c.path), "status": c.status.value,
                       "expected_sha256": c.expected_sha256, "actual_sha256": c.actual_sha256, "source": c.source} for c in checks],
        }, indent=2))
    else:
        typer.echo(f"models dir: {folder} (committed weights: {manifest.base_dir})")
        for check in checks:
            typer.echo(check.describe())
        for extra in unlisted_files(manifest, folder) if not name else []:
            typer.echo(f"note: {extra} is not listed in {manifest_path.name}", err=True)
        typer.echo(f"{len(checks) - len(problems)}/{len(checks)} files ok" + (f", {len(problems)} problem(s)" if problems else ""))
    if problems:
        raise typer.Exit(1)


@models_app.command("list")
def list_command(manifest_path: Path = _MANIFEST) -> None:
    """One line per model: name, version, task, input size, licence (committed weights marked "repo")."""
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for m in manifest.models:
        size = "any" if m.input_size is None else f"{m.input_size[0]}x{m.input_size[1]}"
        where = "repo" if m.location == "repo" else ""
        typer.echo(f"{m.name:<40} {m.version}  {m.task:<17} {size:<8} {where:<4} {m.license}")
