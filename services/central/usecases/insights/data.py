"""Where the retail CSVs live (``$ANSHIN_RETAIL_DIR``, else ``../shared/data/retail`` beside the
project), and how the shared ones are read: each file's column mapping and date format.

>>> WALMART.date_format, GROCERIES.transaction, BREADBASKET.ignore_items
('%d-%m-%Y', ('Member_number', 'Date'), ('NONE',))
"""

from __future__ import annotations

import os
from pathlib import Path

from services.central.usecases.insights.importing import ColumnMapping

PROJECT_ROOT = Path(__file__).resolve().parents[4]

#: Weekly sales of 45 stores; ``only={"Store": "1"}`` picks one. Dates day-first.
WALMART = ColumnMapping(kind="sales", date="Date", date_format="%d-%m-%Y", value="Weekly_Sales",
                        features=("Holiday_Flag", "Temperature", "Fuel_Price", "CPI"))
#: Grocery purchases; a basket is one member on one day. Dates day-first.
GROCERIES = ColumnMapping(kind="transactions", date="Date", date_format="%d-%m-%Y", item="itemDescription",
                          transaction=("Member_number", "Date"))
#: A bakery's till lines with times; ``NONE`` is no item. ISO dates.
BREADBASKET = ColumnMapping(kind="transactions", date="Date", date_format="%Y-%m-%d", time="Time", item="Item",
                            transaction=("Transaction",), ignore_items=("NONE",))


def retail_dir() -> Path:
    """``$ANSHIN_RETAIL_DIR``, else ``../shared/data/retail`` beside the project."""
    return Path(os.environ.get("ANSHIN_RETAIL_DIR") or PROJECT_ROOT.parent / "shared" / "data" / "retail")
