"""VDA 5050 (version 2.0.0) over MQTT: the message subset Anshin uses, a fleet adapter for central
and a simulated AMR. Schemas in ``schemas/`` are our own, written from the specification."""
