"""The one door to the sync engine (``videofeedback.team.sync``), imported lazily.

The engine may be missing from a build (it came later than joining and the indicator):
``engine()`` is then None, and callers say "sync not available" instead of failing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .errors import StoreError

ENGINE = "videofeedback.team.sync"
Progress = Callable[[str, int, int], None]


class SyncUnavailableError(StoreError):
    """This build has no sync engine."""


def engine() -> ModuleType | None:
    """The sync engine's module, or None when this build has none."""
    try:
        return importlib.import_module(ENGINE)
    except ModuleNotFoundError as exc:
        if exc.name == ENGINE:
            return None
        raise  # the engine is there but something it needs is not: a real error


def available() -> bool:
    return engine() is not None


def sync_once(library: Any, session: Any, remote_name: str, progress: Progress | None) -> Any:
    """One sync (push and pull) through the engine; its report. Raises StoreError kinds."""
    module = engine()
    if module is None:
        raise SyncUnavailableError(
            "sync is not available in this build of videofeedback; update it to sync"
        )
    return module.sync_library(library, session, remote_name, progress=progress)
