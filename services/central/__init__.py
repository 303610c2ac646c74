"""Central service: idempotent ingest, human-in-the-loop review queue, hash-chained audit, APIs.

Everything is built by :func:`services.central.api.app.create_app` from one
:class:`services.central.settings.Settings`; no module holds global state.
"""
