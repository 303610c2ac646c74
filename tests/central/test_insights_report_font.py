"""Use case J report plots: Japanese text is drawn with a CJK font even when the font was installed
after matplotlib cached the system's font list (otherwise every Japanese character is a box)."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_a_cjk_font_installed_after_matplotlib_cached_its_list_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    from services.central.usecases.insights import report

    installed = [p for p in font_manager.findSystemFonts() if Path(p).name.startswith(report.CJK_FILES)]
    assert installed, "no CJK font on this machine: `make test` installs fonts-noto-cjk (Makefile target browsers)"
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in report.CJK_FONTS]  # as cached before
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    report._add_installed_cjk_fonts.cache_clear()  # the one scan per process may have run in another test
    assert report._font()[0] in report.CJK_FONTS
