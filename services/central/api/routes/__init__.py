"""One router per resource; ``api/app.py`` assembles them."""
