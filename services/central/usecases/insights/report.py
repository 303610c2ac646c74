"""The weekly report's plots (PNG for the page) and its PDF export, in Japanese or English.

Everything is drawn from a stored report's content (``service.compute``): sales actuals with the
forecast and its 80 % interval, plus the last horizon's forecast made before it against what
happened; top movers; then the purchase proposal, placements and basket rules as text pages.
Matplotlib only (Agg backend, no network); Japanese text uses an installed Noto Sans CJK font.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, any thread

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

Translate = Callable[..., str]
CJK_FONTS = ("Noto Sans CJK JP", "Noto Serif CJK JP", "IPAexGothic", "TakaoGothic")
#: File-name stems of the CJK_FONTS files (Debian: fonts-noto-cjk, fonts-ipaexfont, fonts-takao).
CJK_FILES = ("NotoSansCJK", "NotoSerifCJK", "ipaexg", "TakaoGothic")


def _font() -> list[str]:
    names = {f.name for f in font_manager.fontManager.ttflist}
    if not names.intersection(CJK_FONTS):
        _add_installed_cjk_fonts()
        names = {f.name for f in font_manager.fontManager.ttflist}
    return [n for n in CJK_FONTS if n in names] + ["DejaVu Sans"]


@functools.cache  # one scan of the system's fonts per process, found or not
def _add_installed_cjk_fonts() -> None:
    # Matplotlib caches the system's font list once: a CJK font installed after that first run
    # (e.g. the demo ran before `make browsers`) is missing from it, and Japanese would draw as boxes.
    for path in font_manager.findSystemFonts():
        if Path(path).name.startswith(CJK_FILES):
            font_manager.fontManager.addfont(path)


def _figure(width: float = 8.0, height: float = 3.6) -> Figure:
    plt.rcParams["font.family"] = _font()
    return plt.figure(figsize=(width, height), dpi=100)


def forecast_figure(content: dict[str, Any], t: Translate) -> Figure | None:
    sales = content.get("sales") or {}
    if not sales.get("available"):
        return None
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    hist = pd.DataFrame(sales["history"])
    fc = pd.DataFrame(sales["forecast"])
    past = pd.DataFrame(sales.get("past_forecast") or [])
    for uid, g in hist.groupby("unique_id"):
        ax.plot(pd.to_datetime(g["ds"]), g["y"], color="#333333", lw=1.4, label=f"{t('insights.actual')} ({uid})")
    for _uid, g in fc.groupby("unique_id"):
        ds = pd.to_datetime(g["ds"])
        ax.fill_between(ds, g["lo"], g["hi"], color="#4a90d9", alpha=0.25, label=t("insights.interval"))
        ax.plot(ds, g["mean"], color="#1f5fa8", lw=1.6, label=t("insights.forecast"))
    if not past.empty:
        ds = pd.to_datetime(past["ds"])
        ax.fill_between(ds, past["lo"], past["hi"], color="#e39b3b", alpha=0.2)
        ax.plot(ds, past["mean"], color="#c26a00", lw=1.2, ls="--", label=t("insights.backtest"))
    ax.set_title(t("insights.plot_alt"))
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def movers_figure(content: dict[str, Any], t: Translate) -> Figure | None:
    movers = content.get("top_movers") or []
    if not movers:
        return None
    fig = _figure(height=3.0)
    ax = fig.add_subplot(1, 1, 1)
    names = [m["item"] for m in movers][::-1]
    changes = [m["change"] for m in movers][::-1]
    ax.barh(names, changes, color=["#2e8b57" if c >= 0 else "#c0392b" for c in changes])
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_title(t("insights.movers"))
    ax.set_xlabel(t("insights.change"))
    fig.tight_layout()
    return fig


def png(fig: Figure | None) -> bytes | None:
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _text_page(lines: list[str], title: str) -> Figure:
    fig = _figure(8.27, 11.69)  # A4 portrait, inches
    fig.text(0.06, 0.95, title, fontsize=14, weight="bold", va="top")
    y = 0.91
    for line in lines:
        fig.text(0.06, y, line, fontsize=8.5, va="top")
        y -= 0.022
        if y < 0.04:
            break
    return fig


def summary_lines(content: dict[str, Any], t: Translate, proposals: list[dict[str, Any]]) -> list[str]:
    """The report's lists as plain lines: proposal lines with their expected effect, placements, rules."""
    out = [t("insights.computed", at=content.get("computed_at", "")[:16], until=(content.get("data_until") or "-")[:10]), ""]
    out.append(f"[{t('insights.orders')}]")
    orders = [o for o in content.get("orders", []) if o.get("order_units", 0) > 0]
    for o in orders:
        out.append(f"  {o['item']}: {t('insights.order')} {o['order_units']} ({o['packs']} x {o['pack_size']}), "
                   f"{t('insights.demand')} {o['demand_mean']:.1f}, {t('insights.fill')} {o['expected_fill']:.1%}")
    if not orders:
        out.append("  " + t("insights.orders_none"))
    for p in proposals:
        out.append(f"  #{p['id']} {p['created_at'][:16]}: {t('insights.state.' + p['state'])}")
    out += ["", f"[{t('insights.placements')}]"]
    for p in content.get("placements", []):
        out.append("  " + t("insights.placement", place=p["place"], near=p["near"],
                            conf=f"{p['expected_confidence']:.0%}", lift=f"{p['lift']:.2f}"))
    out += ["", f"[{t('insights.rules')}]"]
    for r in content.get("rules", [])[:15]:
        out.append(f"  {', '.join(r['antecedent'])} -> {', '.join(r['consequent'])}: "
                   f"{t('insights.support')} {r['support']:.3f}, {t('insights.confidence')} {r['confidence']:.2f}, "
                   f"{t('insights.lift')} {r['lift']:.2f}")
    staff = content.get("staffing") or []
    if staff:
        out += ["", f"[{t('insights.staffing')}]"]
        out.append("  " + ", ".join(f"{s['hour']:02d}:00 {s['staff']}" for s in staff))
    if not content.get("visitors_known"):
        out += ["", t("insights.no_visitors")]
    return out


def pdf(content: dict[str, Any], t: Translate, proposals: list[dict[str, Any]]) -> bytes:
    """The weekly report as a PDF (plots first, then the lists)."""
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": t("insights.title", store=content["store_id"]),
                                 "CreationDate": datetime.now(timezone.utc)}) as doc:
        for fig in (forecast_figure(content, t), movers_figure(content, t)):
            if fig is not None:
                doc.savefig(fig)
                plt.close(fig)
        page = _text_page(summary_lines(content, t, proposals), t("insights.title", store=content["store_id"]))
        doc.savefig(page)
        plt.close(page)
    return buf.getvalue()
