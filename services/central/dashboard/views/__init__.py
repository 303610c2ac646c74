"""Dashboard pages, one module per screen; ``services.central.dashboard.routes`` assembles them."""
