"""Human-in-the-loop review: the pure state machine (``machine``) and its database side (``service``)."""

from services.central.review.machine import Decision, ReviewConflict, State

__all__ = ["Decision", "ReviewConflict", "State"]
