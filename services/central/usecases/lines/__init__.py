"""Use case F footfall on central: visitors from entrance-line crossings (API and labels).

Part of F's central side: its labels and API route join F's use case in
``services/central/usecases/occupancy/__init__.py``.
"""
