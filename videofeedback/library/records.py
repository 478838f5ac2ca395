"""A case's records as typed values: ids, the choices a case offers, and one frozen
dataclass per kind of row (a session, a participant, a media file…), read from its row.

Ids are ``NewType``s over ``str`` (a ``SessionId`` is not a ``MediaId`` to the type checker,
and is the same string on disk and in JSON). ``as_json`` turns a record into the plain JSON
the CLI prints (dates as YYYY-MM-DD, frame rates as "30000/1001", choices by their value).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from fractions import Fraction
from typing import Any, NamedTuple, NewType

from .errors import LibraryError

CaseId = NewType("CaseId", str)
SessionId = NewType("SessionId", str)
MediaId = NewType("MediaId", str)
ParticipantId = NewType("ParticipantId", str)
GoalId = NewType("GoalId", str)
CommentId = NewType("CommentId", str)
SignoffId = NewType("SignoffId", str)
WordsId = NewType("WordsId", str)


class Programme(StrEnum):
    VIG = "VIG"
    PUP = "PUP"
    OTHER = "other"


class Purpose(StrEnum):
    FILMING = "filming"
    SHARED_REVIEW = "shared-review"
    SUPERVISION = "supervision"
    TRAINING = "training"
    FAMILY_COPY = "family-copy"


class SessionKind(StrEnum):
    RECORDING = "recording"
    REVIEW = "review"
    SUPERVISION = "supervision"


def fetch(db: sqlite3.Connection, query: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows by column name, without changing the connection's own row factory."""
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    return list(cursor.execute(query, params).fetchall())


def _optional(row: sqlite3.Row, name: str, default: Any) -> Any:
    """A column that newer versions of the schema add (older databases lack it)."""
    return row[name] if name in row.keys() else default


@dataclass(frozen=True)
class Session:
    id: SessionId
    kind: SessionKind
    date: date
    notes: str = ""
    title: str = ""
    reel: str = ""  # the reel a shared review showed (a MediaId), else ''

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(
            SessionId(row["id"]),
            SessionKind(row["kind"]),
            date.fromisoformat(row["date"]),
            row["notes"] or "",
            _optional(row, "title", "") or "",
            _optional(row, "reel", "") or "",
        )


@dataclass(frozen=True)
class Participant:
    id: ParticipantId
    name: str
    role: str
    age_band: str | None = None
    language: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Participant:
        return cls(
            ParticipantId(row["id"]), row["name"], row["role"], row["age_band"], row["language"]
        )

    @property
    def who(self) -> str:
        return f"{self.name} ({self.role})"


MEDIA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MEDIA_FILE = re.compile(r"media/[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def checked_media_file(media_id: str, file: str) -> str:
    """A media record's file, if it is one of the case's own media files (``media/NAME``,
    no other folder, no ``..``): a record comes from the database, which any member writes
    and sync merges, and the file is read, uploaded and written as ``case folder / file``
    (an attack made other laptops upload or write any file of their account that way)."""
    if not MEDIA_ID.fullmatch(str(media_id)) or not MEDIA_FILE.fullmatch(str(file)):
        raise LibraryError(
            f"the media record {str(media_id)[:64]!r} names a file outside the case's media "
            "folder; it is refused (ask your administrator: the case database was altered)"
        )
    if ".." in str(file):
        raise LibraryError(f"the media record {media_id} names a file with '..'; refused")
    return str(file)


@dataclass(frozen=True)
class MediaRecord:
    """An encrypted media file of a session. ``info`` holds what the file's kind records
    (size, duration, markers, a reel's items…); its frame rate is read out as ``fps``."""

    id: MediaId
    session: SessionId
    kind: str  # recording, import, still, reel
    file: str  # relative to the case folder
    info: Mapping[str, Any] = field(default_factory=dict)
    fps: Fraction | None = None  # None for a still

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MediaRecord:
        info = json.loads(row["info"])
        fps = Fraction(str(info["fps"])) if info.get("fps") else None
        file = checked_media_file(row["id"], row["file"])
        return cls(MediaId(row["id"]), SessionId(row["session_id"]), row["kind"], file, info, fps)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.info["width"]), int(self.info["height"])

    @property
    def duration(self) -> Fraction | None:
        text = self.info.get("duration")
        return Fraction(str(text)) if text else None

    def frame_rate(self) -> Fraction:
        """The frame rate of a recording, an import or a reel (a still has none)."""
        if self.fps is None:
            raise LibraryError(
                f"media {self.id} is a {self.kind} without a frame rate; choose a recording, "
                "an imported film or a reel"
            )
        return self.fps


@dataclass(frozen=True)
class CaseListing:
    """A case as the list of cases shows it (read without opening it)."""

    id: CaseId
    label: str | None
    programme: str | None
    start_date: str | None
    closed_date: str | None  # None while open


@dataclass(frozen=True)
class Member:
    user: str
    role: str


@dataclass(frozen=True)
class GoalScore:
    date: date
    score: int  # -2 to +2


@dataclass(frozen=True)
class Goal:
    id: GoalId
    text: str
    scores: tuple[GoalScore, ...] = ()


@dataclass(frozen=True)
class Comment:
    id: CommentId
    target: str  # a session, moment or recording id
    text: str
    author: str
    created_at: str


@dataclass(frozen=True)
class Signoff:
    id: SignoffId
    recording_session: SessionId
    review_session: SessionId
    signed_by: str
    signed_at: str
    valid: bool  # does the signature verify against the signer's key?


class ConsentStatus(NamedTuple):
    """The latest consent the signed trail records for one participant and purpose."""

    status: str  # given or withdrawn
    when: str  # ISO time of the entry

    @property
    def withdrawn(self) -> bool:
        return self.status == "withdrawn"


@dataclass(frozen=True)
class ConsentRow:
    """One participant's consent to every purpose: given, withdrawn or "not asked"."""

    participant: ParticipantId
    status: Mapping[Purpose, str]

    def as_json(self) -> dict[str, str]:
        return {"participant": self.participant, **{p.value: s for p, s in self.status.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_json(record: Any) -> dict[str, Any]:
    """A record (a dataclass instance) as plain JSON values."""
    plain: dict[str, Any] = _plain(dataclasses.asdict(record))
    return plain
