"""Integrator webhooks: HMAC-signed POSTs of stored events, retried with backoff, dead-lettered."""
