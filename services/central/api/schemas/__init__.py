"""Wire shapes (``*In``/``*Out``) of the API, kept apart from the tables in ``db/tables.py``."""
