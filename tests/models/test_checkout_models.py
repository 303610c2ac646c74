"""Models shipped inside a pinned Python package (``location: package``, use case E's dlib models):
verified where pip installed them, a missing package named with its pin, a broken entry refused."""

from __future__ import annotations

import pytest

from edge.models_registry import MANIFEST_PATH, ModelEntry, Status, check_file, load_manifest


def test_the_dlib_models_are_verified_inside_their_installed_package() -> None:
    manifest = load_manifest(MANIFEST_PATH)
    for name in ("dlib_face_recognition_resnet_v1", "dlib_shape_predictor_5"):
        entry = manifest.get(name)
        assert entry.location == "package" and entry.package == "face_recognition_models"
        assert "face_recognition_models==0.3.0" in entry.source and entry.license
        check = check_file(entry, entry.files[0], models_dir=MANIFEST_PATH.parent)
        assert check.ok, check.describe()
        assert "site-packages" in str(check.path) or "dist-packages" in str(check.path)


def test_a_missing_package_says_to_install_the_pin() -> None:
    entry = load_manifest(MANIFEST_PATH).get("dlib_shape_predictor_5").model_copy(update={"package": "no_such_package_anshin"})
    check = check_file(entry, entry.files[0], models_dir=MANIFEST_PATH.parent)
    assert check.status is Status.MISSING
    assert "install the pinned package" in check.describe() and "face_recognition_models==0.3.0" in check.describe()


def test_a_package_entry_must_name_its_package() -> None:
    raw = load_manifest(MANIFEST_PATH).get("dlib_shape_predictor_5").model_dump()
    raw["package"] = None
    with pytest.raises(ValueError, match="location package needs `package`"):
        ModelEntry.model_validate(raw)
