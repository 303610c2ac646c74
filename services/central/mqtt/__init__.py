"""MQTT ingest: central's subscriber on ``$share/anshin-ingest/anshin/v1/#`` (see ``worker.py``)."""
