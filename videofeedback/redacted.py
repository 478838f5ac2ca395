"""Where redaction applies: every copy of footage that leaves the practitioner's own review.

A copy is made *for a purpose* (a Purpose: family-copy, shared-review, supervision, training…):
each recording in it hides every track not marked as a participant who consented to that
purpose, from the original plus its reviewed plan (videofeedback/redaction.py). The one
unredacted way out is ``own-review`` (OWN_REVIEW): the practitioner's own copy, audited as such.

- a recording or import exported: re-encoded from the original and its plan;
- a reel exported: only as rendered for that purpose (``media.render_reel(purpose=…)``, whose
  sources are the redacted renders of its recordings and whose stills are hidden as well);
- a still exported: the stored still with the hidden areas of its source frame covered;
- the session report's stills: hidden as for the case record (``REPORT_PURPOSE``); a still
  whose recording was never reviewed is replaced by a plain card that says so;
- the shared review: the original only where every person in the film consented to shared
  review, else the redacted render (in memory, never on disk).

Frames, crops and renders live in memory and pipes; the only files written are the export
itself (through ``plaintext_export``: audited, swept if killed) and encrypted renders."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from clips.ffmpeg import Cancel
from clips.frames import png_bytes
from clips.probe import probe
from clips.redact.overlay import overlays, prepare_overlay_encode
from clips.redact.plan import RedactionPlan
from clips.redact.render import encode, hidden_areas, hide
from clips.serve import Opener, serving
from encryption import AgeReader, atomic_encrypted_writer, read_encrypted
from videofeedback.exports import plaintext_export
from videofeedback.library.cases import Case, Purpose
from videofeedback.library.errors import LibraryError
from videofeedback.library.roles import Action
from videofeedback.media import opener
from videofeedback.redaction import (
    ReviewPendingError,
    check_plan_current,
    load_plan,
    review_pending,
    visible_tracks,
)

OWN_REVIEW = "own-review"
#: The session report goes to the case record: a person is shown there only if they are a
#: participant who consented to being filmed.
REPORT_PURPOSE = Purpose.FILMING
FILMS = ("recording", "import")


def parse_export_purpose(text: str | None) -> Purpose | None:
    """``--purpose``: a Purpose (a redacted copy) or own-review (None: the original)."""
    if not text:
        raise LibraryError(
            "say what the copy is for: --purpose family-copy (or shared-review, supervision, "
            "training: people without consent to it are hidden), or --purpose own-review for "
            "the unredacted original, for your own review only (audited as such)"
        )
    if text == OWN_REVIEW:
        return None
    try:
        return Purpose(text)
    except ValueError:
        names = ", ".join([*(p.value for p in Purpose), OWN_REVIEW])
        raise LibraryError(f"--purpose {text!r}: use one of {names}") from None


def reviewed_plan(case: Case, media_id: str) -> RedactionPlan:
    """The recording's plan, approved by a person since it last changed; else refused."""
    plan = load_plan(case, media_id)
    film = f"the {case.describe(media_id)} ({media_id})"  # "the recording of Play with blocks"
    if plan is None:
        raise ReviewPendingError(
            f"nobody has looked for people in {film} yet, so it cannot leave redacted; "
            f"run 'Find people' in the review (or 'videofeedback people find {media_id}'), "
            "say who is who, and approve the review"
        )
    check_plan_current(case, media_id)
    if review_pending(case, plan):
        raise ReviewPendingError(
            f"the redaction of {film} has not been reviewed since it last changed "
            f"({len(plan.stretches)} stretches to look at); nothing was written. Step through "
            f"them in the review mode (or 'videofeedback redact review-status {media_id}'), "
            f"then approve ('redact approve {media_id}')"
        )
    return plan


# --- frames ---------------------------------------------------------------------------------


def hide_frame(
    frame: np.ndarray, plan: RedactionPlan, number: int, visible: set[str]
) -> np.ndarray:
    """A copy of ``frame`` (the plan's frame ``number``, maybe scaled) with every hidden area
    overwritten by a flat fill plus noise."""
    out = np.array(frame, copy=True)
    sx, sy = out.shape[1] / plan.width, out.shape[0] / plan.height
    rng = np.random.default_rng(secrets.randbits(128))
    for area in hidden_areas(plan, min(number, max(plan.frames - 1, 0)), visible):
        scaled = type(area)(area.x * sx, area.y * sy, area.w * sx, area.h * sy)
        hide(out, scaled, rng, "fill")
    return out


def placeholder(frame: np.ndarray) -> np.ndarray:
    """A whole-frame card: the frame's size, nothing of the picture."""
    card = np.full(frame.shape, 96, np.uint8)
    text = "not reviewed for redaction"
    scale = max(0.5, frame.shape[1] / 900)
    cv2.putText(card, text, (20, frame.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (235, 235, 235), max(1, int(2 * scale)), cv2.LINE_AA)  # fmt: skip
    return card


def redacted_still(
    case: Case, media_id: str, number: int, frame: np.ndarray, purpose: Purpose
) -> np.ndarray:
    """Frame ``number`` of recording ``media_id`` as it may be shown for ``purpose``
    (refused, ReviewPendingError, without a reviewed plan)."""
    plan = reviewed_plan(case, media_id)
    return hide_frame(frame, plan, number, visible_tracks(case, plan, purpose))


def still_or_card(
    case: Case, media_id: str, number: int, frame: np.ndarray, purpose: Purpose
) -> tuple[np.ndarray, bool]:
    """The redacted frame, or (no reviewed plan) a card in its place; True if redacted."""
    try:
        return redacted_still(case, media_id, number, frame, purpose), True
    except ReviewPendingError:
        return placeholder(frame), False


# --- whole films ----------------------------------------------------------------------------


def render_redacted(
    case: Case,
    media_id: str,
    purpose: Purpose,
    sink: Callable[[bytes], object],
    progress: Callable[[int], None] | None = None,
    cancel: Cancel | None = None,
) -> tuple[RedactionPlan, set[str], int]:
    """Recording ``media_id`` redacted for ``purpose``, as fragmented MP4 into ``sink``."""
    record = case.media.get(media_id)
    plan = reviewed_plan(case, media_id)
    visible = visible_tracks(case, plan, purpose)
    with serving(opener(case, record)) as (url,):
        has_sound = probe(url).main_audio is not None
        argv = prepare_overlay_encode(plan, url, has_sound)
        written = encode(argv, overlays(plan, visible), sink, cancel, progress)
    return plan, visible, written


def shows_everyone(case: Case, media_id: str, purpose: Purpose) -> bool:
    """True if the reviewed plan hides nothing for ``purpose``: every track is a consenting
    participant, no box was drawn, no sound muted. Refused without a reviewed plan."""
    plan = reviewed_plan(case, media_id)
    visible = visible_tracks(case, plan, purpose)
    return len(visible) == len(plan.tracks) and not plan.manual and not plan.mutes


def shared_review_film(case: Case, media_id: str) -> bytes | None:
    """What the shared review plays: None (the original) when everyone in the film consented
    to shared review, else the redacted render, in memory only."""
    case.require(Action.VIEW)
    if shows_everyone(case, media_id, Purpose.SHARED_REVIEW):
        return None
    chunks: list[bytes] = []
    render_redacted(case, media_id, Purpose.SHARED_REVIEW, chunks.append)
    return b"".join(chunks)


@contextmanager
def redacted_sources(
    case: Case, media_ids: list[str], purpose: Purpose, tag: str
) -> Iterator[dict[str, Opener]]:
    """Openers of each recording redacted for ``purpose``: rendered once into an encrypted
    file beside it (the case's key), removed afterwards. Stills and reels pass through."""
    made: list[Path] = []
    try:
        openers: dict[str, Opener] = {}
        for media_id in media_ids:
            record = case.media.get(media_id)
            if record.kind not in FILMS:
                openers[media_id] = opener(case, record)
                continue
            path = case.folder / "media" / f".{tag}.{media_id}.redacted.age"
            made.append(path)
            with atomic_encrypted_writer(path, case.recipients) as writer:
                render_redacted(case, media_id, purpose, writer.write)
            openers[media_id] = _reader(path, case)
        yield openers
    finally:
        for path in made:
            path.unlink(missing_ok=True)


def _reader(path: Path, case: Case) -> Opener:
    identity = case.identity
    return lambda: AgeReader(path, [identity])  # type: ignore[return-value]


# --- copies out of the library --------------------------------------------------------------


def export_copy(
    case: Case,
    media_id: str,
    out: Path,
    purpose: Purpose | None,
    progress: Callable[[int], None] | None = None,
    cancel: Cancel | None = None,
) -> dict[str, Any]:
    """A plaintext copy of a recording, reel or still for ``purpose`` (None: own review)."""
    case.require(Action.EXPORT)
    if purpose is None:
        return export_original(case, media_id, out)
    kind = case.media.get(media_id).kind
    if kind in FILMS:
        return _export_film(case, media_id, out, purpose, progress, cancel)
    if kind == "reel":
        return _export_reel(case, media_id, out, purpose)
    if kind == "still":
        return _export_still(case, media_id, out, purpose)
    raise LibraryError(f"{media_id} is a {kind}; only recordings, reels and stills are exported")


def export_original(case: Case, media_id: str, out: Path) -> dict[str, Any]:
    """The unredacted original, for the practitioner's own review only: everyone in it is
    visible. Refused if anyone withdrew consent to being filmed; audited as own-review."""
    case.require(Action.EXPORT)
    case.consent.refuse_if_withdrawn(Purpose.FILMING)
    record = case.media.get(media_id)
    with (
        AgeReader(case.folder / record.file, [case.identity]) as reader,
        plaintext_export(case, out, "media.export", media_id, to=OWN_REVIEW, redacted="no") as sink,
    ):
        _copy(reader, sink)
    return _result(media_id, out, redacted=False)


def _export_film(
    case: Case,
    media_id: str,
    out: Path,
    purpose: Purpose,
    progress: Callable[[int], None] | None,
    cancel: Cancel | None,
) -> dict[str, Any]:
    plan = reviewed_plan(case, media_id)  # refused before anything is written
    visible = visible_tracks(case, plan, purpose)
    hidden = len(plan.tracks) - len(visible)
    detail = {"to": purpose.value, "redacted": "yes", "hidden": str(hidden),
              "visible": str(len(visible)), "muted": str(len(plan.mutes))}  # fmt: skip
    with plaintext_export(case, out, "media.export", media_id, **detail) as sink:
        _, _, frames = render_redacted(case, media_id, purpose, sink.write, progress, cancel)
    return {**_result(media_id, out, redacted=True), "frames": frames,
            "hidden_tracks": hidden, "visible_tracks": len(visible)}  # fmt: skip


def _export_reel(case: Case, media_id: str, out: Path, purpose: Purpose) -> dict[str, Any]:
    record = case.media.get(media_id)
    # what the reel was rendered for is read from its signed reel.build entry: the record's
    # info.redacted_for is in the database, which any member writes (and sync merges)
    made_for = case.history().reel_purposes.get(media_id) or None
    if made_for != purpose.value:
        raise LibraryError(
            f"reel {media_id} was rendered "
            + (f"for {made_for}" if made_for else "for your own review (nothing hidden)")
            + f"; render it again for {purpose.value} ('reel render SESSION --plan F "
            f"--purpose {purpose.value}' or the reel builder's purpose) and export that"
        )
    with (
        AgeReader(case.folder / record.file, [case.identity]) as reader,
        plaintext_export(
            case, out, "media.export", media_id, to=purpose.value, redacted="yes"
        ) as sink,  # fmt: skip
    ):
        _copy(reader, sink)
    return _result(media_id, out, redacted=True)


def _export_still(case: Case, media_id: str, out: Path, purpose: Purpose) -> dict[str, Any]:
    record = case.media.get(media_id)
    info = record.info
    png = read_encrypted(case.folder / record.file, [case.identity])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise LibraryError(f"still {media_id} cannot be read; take it again")
    hidden = redacted_still(case, str(info["source"]), int(info["frame"]), image, purpose)
    with plaintext_export(case, out, "media.export", media_id, to=purpose.value,
                          redacted="yes") as sink:  # fmt: skip
        sink.write(png_bytes(hidden))
    return _result(media_id, out, redacted=True)


def _copy(reader: AgeReader, sink: BinaryIO) -> None:
    while block := reader.read(1 << 20):
        sink.write(block)


def _result(media_id: str, out: Path, redacted: bool) -> dict[str, Any]:
    os.chmod(out, 0o600)
    return {"media": media_id, "out": str(out), "bytes": out.stat().st_size,
            "redacted": redacted}  # fmt: skip
