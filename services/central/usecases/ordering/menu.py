"""The kiosk's menu: a few items with names in English and Japanese and a price in yen.

Prices live on central only: an order names SKUs and quantities, and central computes the total,
so a tampered page cannot change what an order costs.

>>> MENU["coffee"].price_yen, total_yen([("coffee", 2), ("onigiri", 1)])
(300, 760)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MenuItem:
    sku: str
    name_en: str
    name_ja: str
    price_yen: int

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


MENU: dict[str, MenuItem] = {i.sku: i for i in (
    MenuItem("coffee", "Coffee", "コーヒー", 300),
    MenuItem("green-tea", "Green tea", "緑茶", 250),
    MenuItem("onigiri", "Rice ball", "おにぎり", 160),
    MenuItem("sandwich", "Sandwich", "サンドイッチ", 420),
    MenuItem("bento", "Bento box", "お弁当", 680),
    MenuItem("salad", "Salad", "サラダ", 380),
)}


def total_yen(lines: Iterable[tuple[str, int]]) -> int:
    """The price of ``(sku, quantity)`` lines; an unknown SKU is a ``KeyError``."""
    return sum(MENU[sku].price_yen * qty for sku, qty in lines)
