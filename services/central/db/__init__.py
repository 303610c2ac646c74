"""Tables, engines and migrations of the central database (SQLite or PostgreSQL)."""
