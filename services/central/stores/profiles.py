"""Per-store privacy profile and country; a store nobody registered gets the settings' defaults.

Profiles (DESIGN.md): ``minimal`` — counts only, central refuses images; ``standard`` — alerts
with evidence blurred on the edge; ``identified`` — images may show faces, which only roles with
``see_faces`` see unblurred (opted-in customers, use case E).

>>> locale_for("JP"), locale_for("de")
('ja', 'en')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import EventRow, StoreRow
from services.central.settings import Settings

PROFILES = ("minimal", "standard", "identified")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class StoreProfile:
    store_id: str
    privacy_profile: str
    country: str
    name: str | None = None
    registered: bool = True  # False: nobody set it; these are the settings' defaults


def locale_for(country: str) -> str:
    """Dashboard language for a store's country: Japanese in Japan, English elsewhere."""
    return "ja" if country.upper() == "JP" else "en"


def get_profile(session: Session, store_id: str, settings: Settings) -> StoreProfile:
    row = session.get(StoreRow, store_id)
    if row is None:
        return StoreProfile(store_id, settings.default_privacy_profile, settings.default_country, registered=False)
    return StoreProfile(row.store_id, row.privacy_profile, row.country, row.name)


def set_profile(
    session: Session, store_id: str, privacy_profile: str, country: str, name: str | None = None, actor: str = "cli"
) -> bool:
    """Register or change a store (the caller commits); audited as ``store.profile`` when it changed.

    Returns True if anything changed. Raises ValueError naming the bad field.
    """
    if privacy_profile not in PROFILES:
        raise ValueError(f"privacy_profile {privacy_profile!r}: must be one of {', '.join(PROFILES)}")
    country = country.upper()
    if not _COUNTRY.fullmatch(country):
        raise ValueError(f"country {country!r}: must be a two-letter ISO 3166 code such as JP")
    row = session.get(StoreRow, store_id)
    if row is not None and (row.privacy_profile, row.country, row.name) == (privacy_profile, country, name):
        return False
    now = datetime.now(timezone.utc)
    if row is None:
        session.add(StoreRow(store_id=store_id, name=name, privacy_profile=privacy_profile, country=country, updated_at=now))
    else:
        row.privacy_profile, row.country, row.name, row.updated_at = privacy_profile, country, name, now
    session.flush()
    audit.append(session, actor, "store.profile", f"store:{store_id}",
                 {"store_id": store_id, "privacy_profile": privacy_profile, "country": country})
    return True


def known_stores(session: Session) -> list[str]:
    """Every store id central has heard of (registered or seen in an event), sorted."""
    query = union(select(StoreRow.store_id), select(EventRow.store_id).distinct())
    return sorted(session.scalars(query).all())
