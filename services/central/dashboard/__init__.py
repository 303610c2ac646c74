"""First dashboard page: live zone counts and the latest events (plain HTML + fetch, no build)."""
