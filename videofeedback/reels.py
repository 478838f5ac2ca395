"""The reels of a session as people see them: the newest one (which the reel builder reopens
and the shared review plays), a label ("Final · 4 items · 20 s", "Draft · 2 items · 8 s"),
and the captions each item had in it. A reel's media record keeps, in ``info["builder"]``, the
builder's state when it was rendered (see ``annotations.reel_draft.ReelDraft.state``)."""

from __future__ import annotations

from fractions import Fraction

from .library.cases import Case
from .library.records import MediaRecord

RECORDINGS = ("recording", "import")


def session_reels(case: Case, session_id: str) -> list[MediaRecord]:
    """The reels stored on a session, oldest first."""
    return [r for r in case.media.of_session(session_id) if r.kind == "reel"]


def latest_reel(case: Case, session_id: str) -> MediaRecord | None:
    reels = session_reels(case, session_id)
    return reels[-1] if reels else None


def session_recording(case: Case, session_id: str) -> MediaRecord | None:
    """The session's (first) recording or imported film, or None."""
    films = [r for r in case.media.of_session(session_id) if r.kind in RECORDINGS]
    return films[0] if films else None


def reel_label(record: MediaRecord) -> str:
    """ "Final · 4 items · 20 s" or "Draft · 2 items · 8 s"."""
    info = record.info
    kind = "Draft" if info.get("draft") else "Final"
    items = len(info.get("items", []))
    seconds = round(float(Fraction(str(info.get("duration") or 0))))
    return f"{kind} · {items} item{'s' if items != 1 else ''} · {seconds} s"


def reel_recording(record: MediaRecord) -> str:
    """The media id of the recording whose moments the reel shows ('' if not recorded)."""
    return str(record.info.get("builder", {}).get("recording", ""))


def reel_captions(record: MediaRecord | None) -> dict[str, str]:
    """Each item's caption as the reel has it (the builder's edits), by moment or still id."""
    if record is None:
        return {}
    edits = record.info.get("builder", {}).get("edits", {})
    return {ref: str(edit.get("caption", "")) for ref, edit in edits.items()}
