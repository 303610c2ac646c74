"""Use case F comfort on central: light and air against their targets (API, history and labels).

Part of F's central side: its labels and API routes join F's use case in
``services/central/usecases/occupancy/__init__.py``; the store page shows the values as charts
with their target bands, and comfort notices with the alerts. Notices are not review items:
staff act on them (ventilate, adjust the heating, switch lights on).
"""
