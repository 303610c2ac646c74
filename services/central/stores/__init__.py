"""Stores as central knows them: privacy profile (what images may exist and who sees faces) and
country (the dashboard's default language)."""

from services.central.stores.profiles import PROFILES, StoreProfile, get_profile, known_stores, locale_for, set_profile

__all__ = ["PROFILES", "StoreProfile", "get_profile", "known_stores", "locale_for", "set_profile"]
