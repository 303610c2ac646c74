"""How long central keeps what, from the settings and a store's privacy profile.

Events: an event that needs no review is kept ``retention_routine_days``; an alert (its review
item and decisions with it) ``retention_alert_days``, and never while its review item is still
open (pending, claimed, escalated). Pictures: evidence ``retention_evidence_days`` and never while
a kept event refers to it, live pictures ``retention_live_hours``; under the ``minimal`` profile
no picture is kept at all (central refuses new ones; this purges any from before a change of
profile).

>>> from services.central.settings import Settings
>>> p = RetentionPolicy.from_settings(Settings(data_dir="/tmp/anshin-doc"))
>>> now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
>>> p.routine_cutoff(now).isoformat(), p.alert_cutoff(now).isoformat(), p.live_cutoff(now).isoformat()
('2026-11-23T12:00:00+00:00', '2026-10-31T12:00:00+00:00', '2026-11-30T11:00:00+00:00')
>>> p.keeps_pictures("standard"), p.keeps_pictures("minimal")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.central.settings import Settings

#: Review item states that keep an alert (and its event and picture) whatever its age.
OPEN_STATES = ("pending", "claimed", "escalated")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    alert: timedelta
    routine: timedelta
    evidence: timedelta
    live: timedelta

    @staticmethod
    def from_settings(settings: Settings) -> RetentionPolicy:
        return RetentionPolicy(
            alert=timedelta(days=settings.retention_alert_days),
            routine=timedelta(days=settings.retention_routine_days),
            evidence=timedelta(days=settings.retention_evidence_days),
            live=timedelta(hours=settings.retention_live_hours),
        )

    def alert_cutoff(self, now: datetime) -> datetime:
        """Alerts that occurred before this (and are decided) go."""
        return now.astimezone(timezone.utc) - self.alert

    def routine_cutoff(self, now: datetime) -> datetime:
        return now.astimezone(timezone.utc) - self.routine

    def all_events_cutoff(self, now: datetime) -> datetime:
        """Every event that occurred before this is past its retention (a whole partition may go)."""
        return min(self.alert_cutoff(now), self.routine_cutoff(now))

    def evidence_cutoff(self, now: datetime) -> datetime:
        return now.astimezone(timezone.utc) - self.evidence

    def live_cutoff(self, now: datetime) -> datetime:
        return now.astimezone(timezone.utc) - self.live

    @staticmethod
    def keeps_pictures(privacy_profile: str) -> bool:
        return privacy_profile != "minimal"
