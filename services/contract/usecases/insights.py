"""Use case J (sales and purchasing): a purchase proposal waiting for staff approval.

Central itself raises ``insights.purchase_proposal`` when it computes order quantities for a
store; the review item is the approval. The payload summarises the list (the lines stay in
central's ``insights_proposals`` table): how many items and units, the service level aimed at.

>>> p = PurchaseProposalPayload.model_validate({"proposal_id": 3, "items": 2, "units": 30,
...                                             "service_level": 0.95, "protection_days": 3})
>>> p.units, p.total_cost
(30, None)
>>> [t.type for t in EVENT_TYPES]
['insights.purchase_proposal']
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.contract.events import Severity, UseCase
from services.contract.types import Count, EventTypeSpec, Fraction, Payload


class PurchaseProposalPayload(Payload):
    """``insights.purchase_proposal``: order lines computed from the demand forecast, to approve."""

    proposal_id: Count = Field(description="central's proposal number (its lines are listed there)")
    items: Count = Field(description="items with a non-zero order")
    units: Count = Field(description="units ordered over all items")
    service_level: Fraction = Field(description="target probability of no stock-out before the next delivery")
    protection_days: Annotated[int, Field(ge=1, le=365)] = Field(description="lead time + review period, days")
    total_cost: Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)] | None = Field(
        default=None, description="sum of units x unit cost, where the catalogue knows the cost")


EVENT_TYPES = (
    EventTypeSpec("insights.purchase_proposal", UseCase.J, Severity.NOTICE, PurchaseProposalPayload,
                  "order quantities from the demand forecast; staff approve before they are sent", review=True),
)
