"""Placeholder secrets: the values ``docker/env.example`` ships (``change-me-...``,
``ank_paste-the-printed-secret-here``) must never reach a running process.

Central (its settings), the edge (its API key and broker password) and ``anshin secrets check``
(the compose stack's first service) refuse them through this one check, naming the variable:

>>> is_placeholder("change-me-postgres"), is_placeholder("ank_paste-the-printed-secret-here")
(True, True)
>>> is_placeholder("postgresql+psycopg://anshin:change-me-postgres@postgres:5432/anshin")
True
>>> is_placeholder("q3v9X_hTz0wYk2m8RrPq1sLd"), is_placeholder("")
(False, False)
>>> placeholder_variables({"ANSHIN_MQTT_PASSWORD": "change-me-central", "ANSHIN_LOG_FORMAT": "json", "EDITOR": "changeme"})
['ANSHIN_MQTT_PASSWORD']
>>> try:
...     refuse_placeholders({"ANSHIN_WEBHOOK_SECRET_KEY": "change-me-to-32-or-more-random-characters"})
... except PlaceholderSecretError as e:
...     print(e)
ANSHIN_WEBHOOK_SECRET_KEY still holds a placeholder of docker/env.example: set ANSHIN_WEBHOOK_SECRET_KEY to a real secret (`anshin secrets generate` writes a fresh .env)
"""

from __future__ import annotations

from collections.abc import Mapping

#: Parts of a value that only a placeholder has (case-insensitive).
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "paste-the", "replace-me")

#: Only our own variables are checked: other software's environment is not ours to judge.
PREFIX = "ANSHIN_"


class PlaceholderSecretError(ValueError):
    """One or more variables still hold a placeholder; ``variables`` names them."""

    def __init__(self, variables: list[str]) -> None:
        self.variables = variables
        names = ", ".join(variables)
        verb, them = ("still holds", "it") if len(variables) == 1 else ("still hold", "them")
        target = variables[0] if len(variables) == 1 else them
        super().__init__(f"{names} {verb} a placeholder of docker/env.example: set {target} to a real secret "
                         "(`anshin secrets generate` writes a fresh .env)")


def is_placeholder(value: str) -> bool:
    """True for a value that is (or contains, as a database URL's password) a shipped placeholder."""
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def placeholder_variables(environ: Mapping[str, str | None]) -> list[str]:
    """Names of the ``ANSHIN_*`` variables whose value is a placeholder, sorted."""
    return sorted(k for k, v in environ.items() if k.startswith(PREFIX) and v and is_placeholder(v))


def refuse_placeholders(environ: Mapping[str, str | None]) -> None:
    """Raise :class:`PlaceholderSecretError` naming every ``ANSHIN_*`` variable that holds a placeholder."""
    found = placeholder_variables(environ)
    if found:
        raise PlaceholderSecretError(found)
