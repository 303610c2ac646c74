"""Read-side queries shared by the API and the dashboard (no writes here)."""
