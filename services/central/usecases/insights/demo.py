"""The demo store's insights from the shared CSVs, prepared in the background at ``anshin demo`` start.

Walmart store 1's weekly sales stand in for the store's sales; the bakery's till lines
(BreadBasket) for its POS. Imports are idempotent and a report already computed is kept, so a
restart with the same data folder costs a few milliseconds. The catalogue rows are demo settings
(pack sizes and lead times a bakery might have), not data.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from services.central.db.session import Database
from services.central.settings import Settings
from services.central.usecases.insights.data import BREADBASKET, WALMART, retail_dir
from services.central.usecases.insights.importing import import_file
from services.central.usecases.insights.service import compute, latest_report, propose, save_report
from services.central.usecases.insights.tables import CatalogueItem, PurchaseProposal

log = logging.getLogger(__name__)

#: item -> (unit cost, pack size, lead time in days): demo settings for the bakery's best sellers.
DEMO_CATALOGUE = {"Coffee": (0.9, 12, 2), "Bread": (0.6, 10, 1), "Tea": (0.4, 20, 3), "Cake": (1.1, 6, 2),
                  "Pastry": (0.5, 12, 1)}


def prepare(db: Database, settings: Settings, store_id: str) -> None:
    """Import the shared CSVs for ``store_id``, compute its report and raise one proposal (once)."""
    folder = retail_dir()
    with db.unit_of_work() as s:
        import_file(s, folder / "Walmart_Store_sales.csv", WALMART.model_copy(update={"only": {"Store": "1"}}),
                    actor="demo", store_id=store_id)
    with db.unit_of_work() as s:
        import_file(s, folder / "BreadBasket_DMS.csv", BREADBASKET, actor="demo", store_id=store_id)
        known = set(s.scalars(select(CatalogueItem.item).where(CatalogueItem.store_id == store_id)))
        for item, (cost, pack, lead) in DEMO_CATALOGUE.items():
            if item not in known:
                s.add(CatalogueItem(store_id=store_id, item=item, unit_cost=cost, pack_size=pack, lead_time_days=lead))
    with db.read_session() as s:
        fresh = latest_report(s, store_id) is None
        content = compute(s, store_id) if fresh else None
    if content is not None:
        with db.unit_of_work() as s:
            save_report(s, content)
    with db.unit_of_work() as s:
        if s.scalar(select(PurchaseProposal.id).where(PurchaseProposal.store_id == store_id)) is None:
            propose(s, store_id, settings, actor="demo")


def prepare_quietly(db: Database, settings: Settings, store_id: str) -> None:
    """:func:`prepare` for a background thread: a failure is logged, never raised into the demo."""
    try:
        prepare(db, settings, store_id)
        log.info("insights ready for %s: /insights/%s", store_id, store_id)
    except Exception:
        log.exception("insights demo data could not be prepared for %s", store_id)
