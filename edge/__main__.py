"""``python -m edge``: the edge commands alone (``config check``, ``edge run``).

The slim edge image (docker/Dockerfile.edge) has no central packages (FastAPI, SQLAlchemy), so
it runs this instead of the full ``anshin`` command.
"""

from __future__ import annotations

import typer

from edge.cli import config_app, edge_app

app = typer.Typer(name="anshin-edge", help="Anshin edge worker commands.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(config_app, name="config")
app.add_typer(edge_app, name="edge")

if __name__ == "__main__":
    app()
