"""Retention: purge events, review items and pictures past their time (:mod:`.policy`,
:mod:`.purge`), monthly event partitions on PostgreSQL (:mod:`.partitions`), the purge schedule
inside central (:mod:`.schedule`) and ``anshin retention run`` (:mod:`.cli`)."""

from services.central.retention.policy import OPEN_STATES, RetentionPolicy
from services.central.retention.purge import PurgeReport, run

__all__ = ["OPEN_STATES", "PurgeReport", "RetentionPolicy", "run"]
