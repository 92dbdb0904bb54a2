"""Where the local ``frontline serve`` runs, so that ``frontline demo`` (run from any
directory) reports that server and uses its database.

When the database is not configured (``FRONTLINE_DATABASE_URL`` unset: the default SQLite
file in the current directory), ``serve`` turns the file's path absolute and records it with
its URL and process id in ``serve.json`` under the state directory (``FRONTLINE_STATE_DIR``,
else ``$XDG_STATE_HOME/frontline``, else ``~/.local/state/frontline``). ``demo`` without a
configured database then uses that database wherever it is run from, and that server's URL
while its process lives. A configured database is never overridden.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from frontline.settings import Settings

_SQLITE = "sqlite+aiosqlite:///"


def state_dir() -> Path:
    explicit = os.environ.get("FRONTLINE_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "frontline"


def database_configured(settings: Settings) -> bool:
    return "database_url" in settings.model_fields_set


def absolute_database_url(url: str) -> str:
    """A relative SQLite file made absolute against the current directory."""
    if not url.startswith(_SQLITE) or ":memory:" in url:
        return url
    path, _, query = url[len(_SQLITE) :].partition("?")
    resolved = str(Path(path).resolve())
    return _SQLITE + resolved + (f"?{query}" if query else "")


@dataclass(frozen=True)
class ServeState:
    database_url: str
    base_url: str
    pid: int

    @property
    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except (ProcessLookupError, PermissionError, OSError):
            return False
        return True


def record(state: ServeState) -> None:
    folder = state_dir()
    with contextlib.suppress(OSError):  # a read-only home must not stop the server
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "serve.json.tmp"
        tmp.write_text(json.dumps(state.__dict__), encoding="utf-8")
        tmp.replace(folder / "serve.json")


def recorded() -> ServeState | None:
    try:
        data = json.loads((state_dir() / "serve.json").read_text(encoding="utf-8"))
        return ServeState(str(data["database_url"]), str(data["base_url"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def for_serve(settings: Settings, base_url: str) -> Settings:
    """The settings ``serve`` runs with (the default SQLite path made absolute), recorded."""
    if database_configured(settings):
        return settings
    url = absolute_database_url(settings.database_url)
    record(ServeState(url, base_url, os.getpid()))
    update = {"database_url": url}
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = base_url
    return settings.model_copy(update=update)


def for_demo(settings: Settings) -> Settings:
    """The settings ``demo`` runs with: the recorded server's database (and its URL while
    it runs) unless a database is configured."""
    if database_configured(settings):
        return settings
    state = recorded()
    if state is None:
        return settings.model_copy(
            update={"database_url": absolute_database_url(settings.database_url)}
        )
    update = {"database_url": state.database_url}
    if state.running and "public_url" not in settings.model_fields_set:
        update["public_url"] = state.base_url
    return settings.model_copy(update=update)
