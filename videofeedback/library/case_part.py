"""The base of a case's managers (``case.sessions``, ``case.consent``…)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cases import Case


class CasePart:
    """One concern of an open case, over its one database. ``Case`` makes one on each use
    (``case.sessions``) and keeps none, so there is no reference cycle: a case nobody holds
    is let go at once (its runner closed, its decrypted database freed), and a manager
    keeps its case open while it is used (``open_case(...).participants.all()``)."""

    def __init__(self, case: Case) -> None:
        self.case = case
