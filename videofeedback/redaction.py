"""Redaction in a case: find and track the people in a recording, say who each is, mute
sound, review, and export a copy that hides everyone without consent for its purpose.

The plan is stored encrypted beside the recording (media/<id>.redaction.age, to the case's
key); the original recording is never changed. Every step is audited."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from clips.ffmpeg import Cancel
from clips.probe import probe
from clips.redact import edit
from clips.redact.detect import Box
from clips.redact.overlay import overlays, prepare_overlay_encode
from clips.redact.plan import OTHER, Keyframe, ManualBox, RedactionPlan
from clips.redact.render import encode
from clips.redact.source import read_frames
from clips.redact.track import (
    TrackerSettings,
    analysis_size,
    moments,
    rescaled,
    track_frames,
)
from clips.serve import serving
from encryption import atomic_file, read_encrypted, write_encrypted
from videofeedback.library.audit import now_iso
from videofeedback.library.cases import Case, Purpose
from videofeedback.library.errors import LibraryError
from videofeedback.library.records import MediaRecord
from videofeedback.library.roles import Action
from videofeedback.media import opener


class ReviewPendingError(LibraryError):
    """A redacted export was asked for before a person reviewed the redaction."""


def plan_file(case: Case, media_id: str) -> Path:
    return case.folder / "media" / f"{media_id}.redaction.age"


def load_plan(case: Case, media_id: str) -> RedactionPlan | None:
    case.media.get(media_id)
    path = plan_file(case, media_id)
    if not path.exists():
        return None
    plan = RedactionPlan.from_bytes(read_encrypted(path, [case.identity]))
    if plan.media != media_id:  # a synced plan names its recording (FORMAT §12.7)
        raise LibraryError(
            f"the redaction plan stored for {media_id} is the plan of another recording "
            f"({plan.media}); run 'videofeedback people find {media_id}' to make its own"
        )
    return plan


#: This computer's state (``sync_value``): per case, {media id: merged plan sha256} for the
#: plans whose file here was not the merged version after the last sync (written by
#: ``team/plan_sync.py``, which takes the name from here).
BEHIND = "plans-behind:"


def behind_store(case: Case, media_id: str) -> bool:
    """Whether the last sync (or seal) left this recording's plan file other than the
    version the case's merged record names (a newer plan not fetched yet, withheld or
    swapped by the store, or an edit admission refused); a sync that brings it clears this.
    A plan edited here after a sync that left it current is this laptop's own edit: not
    behind (docs/FORMAT.md §12.7)."""
    behind = case.session.library.local.sync_value(BEHIND + case.id, {})
    wanted = behind.get(media_id) if isinstance(behind, dict) else None
    if wanted is None:
        return False
    path = plan_file(case, media_id)
    return not (path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == wanted)


def check_plan_current(case: Case, media_id: str) -> None:
    """Refused (one line, what to do) while ``behind_store``."""
    if behind_store(case, media_id):
        raise ReviewPendingError(
            f"the team holds a newer redaction plan of {media_id} than this laptop has (not "
            "fetched yet, or withheld by the store); nothing was written. Sync first "
            "('videofeedback sync'); if it stays, tell your administrator"
        )


def review_pending(case: Case, plan: RedactionPlan) -> bool:
    """True until this very plan is approved: its last review names its digest, and the
    signed trail holds that reviewer's ``redact.approve`` of it (a review written into the
    plan file by anyone else, e.g. a member who edited it after the approval, counts for
    nothing; docs/FORMAT.md §12.7); also while the plan here is behind the merged one."""
    if plan.review_pending() or behind_store(case, plan.media):
        return True
    review = plan.reviews[-1]
    approvals = case.history().approvals.get(plan.media, set())
    return not any(
        user == review.by and len(digest) >= 16 and review.digest.startswith(digest)
        for user, digest in approvals
    )


def require_plan(case: Case, media_id: str) -> RedactionPlan:
    plan = load_plan(case, media_id)
    if plan is None:
        raise LibraryError(
            f"nobody has looked for people in {media_id} yet; "
            f"run 'videofeedback people find {media_id}' first"
        )
    return plan


def save_plan(case: Case, plan: RedactionPlan) -> None:
    write_encrypted(plan_file(case, plan.media), plan.to_bytes(), case.recipients)


def _shape(record: MediaRecord) -> tuple[Fraction, tuple[int, int]]:
    return record.frame_rate(), record.size


def find_people(
    case: Case,
    media_id: str,
    progress: Callable[[int], None] | None = None,
    cancel: Cancel | None = None,
    settings: TrackerSettings | None = None,
) -> RedactionPlan:
    """Detect and track faces through the whole recording; the marks of an earlier run are
    dropped (its tracks are gone), manual boxes and muted ranges are kept."""
    case.require(Action.ANNOTATE)
    record = case.media.get(media_id)
    fps, size = _shape(record)
    settings = settings or TrackerSettings()
    small = analysis_size(size)
    with serving(opener(case, record)) as (url,):
        frames = read_frames(url, small, cancel=cancel, scaled=small != size)
        found, stretches, count = track_frames(frames, fps, small, settings=settings,
                                               progress=progress)  # fmt: skip
    tracks = rescaled(found, size[0] / small[0], size[1] / small[1])
    earlier = load_plan(case, media_id)
    plan = RedactionPlan(
        media_id, str(fps), size[0], size[1], count, settings.detect_every,
        tuple(tracks), stretches=tuple(stretches),
        manual=earlier.manual if earlier else (), mutes=earlier.mutes if earlier else (),
    )  # fmt: skip
    save_plan(case, plan)
    case.audit("redact.find", media_id, tracks=str(len(tracks)), stretches=str(len(stretches)))
    return plan


def mark(case: Case, media_id: str, track_id: str, who: str) -> RedactionPlan:
    """Say who a track is: a participant's id, or "other" (always hidden)."""
    case.require(Action.ANNOTATE)
    if who != OTHER and who not in {p.id for p in case.participants.all()}:
        raise LibraryError(
            f"{who!r} is not a participant of case {case.id}; use a participant id "
            f"('videofeedback case show {case.id}') or 'other'"
        )
    plan = require_plan(case, media_id).marked(track_id, who)
    save_plan(case, plan)
    case.audit("redact.mark", media_id, track=track_id, to=who)
    return plan


def mute(
    case: Case, media_id: str, start: Fraction, end: Fraction, bleep: bool = False,
    mode: str = "",
) -> RedactionPlan:  # fmt: skip
    """Sound from ``start`` to ``end`` seconds muted, bleeped (``bleep`` or mode "bleep")
    or the voice disguised (mode "disguise") in redacted exports."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id).muted(start, end, bleep, mode)
    save_plan(case, plan)
    kind = plan.mutes[-1].mode
    case.audit("redact.mute", media_id, start=str(start), end=str(end), kind=kind)
    return plan


def _frame(plan: RedactionPlan, seconds: Fraction) -> int:
    return int(seconds * Fraction(plan.fps))


def split_track(
    case: Case, media_id: str, track_id: str, at: Fraction
) -> tuple[RedactionPlan, str]:
    """The track split at ``at`` seconds: the part from there on is a new track (its id
    returned), unmarked (hidden until someone says who it is)."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id)
    plan, new = edit.split(plan, track_id, _frame(plan, at))
    save_plan(case, plan)
    case.audit("redact.split", media_id, track=track_id, at=str(at), new=new)
    return plan, new


def merge_tracks(case: Case, media_id: str, keep: str, other: str) -> tuple[RedactionPlan, bool]:
    """Two tracks of one person as one (``keep``); True when their marks differed and were
    dropped (the merged track is hidden until marked again)."""
    case.require(Action.ANNOTATE)
    plan, dropped = edit.merge(require_plan(case, media_id), keep, other)
    save_plan(case, plan)
    case.audit("redact.merge", media_id, track=keep, merged=other, mark_dropped=str(dropped))
    return plan, dropped


def extend_track(
    case: Case, media_id: str, track_id: str, to: Fraction,
    box: tuple[float, float, float, float] | None = None,
) -> RedactionPlan:  # fmt: skip
    """The track continued to ``to`` seconds, to ``box`` there (x, y, w, h in the film's
    pixels) or held where it ends."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id)
    where = None if box is None else Box(*box)
    if where is not None and min(where.w, where.h) <= 0:
        raise LibraryError("a box needs a width and height above 0")
    plan = edit.extend(plan, track_id, _frame(plan, to), where)
    save_plan(case, plan)
    case.audit("redact.extend", media_id, track=track_id, to=str(to))
    return plan


def add_box(
    case: Case,
    media_id: str,
    start: Fraction,
    end: Fraction,
    box: tuple[float, float, float, float],
    to: tuple[float, float, float, float] | None = None,
) -> RedactionPlan:
    """A box a person drew, always hidden, from ``start`` to ``end`` seconds, moving from
    ``box`` to ``to`` (x, y, w, h in the film's pixels), linearly."""
    return add_keyed_box(case, media_id, [(start, box), (end, to or box)])


def add_keyed_box(
    case: Case, media_id: str, keys: list[tuple[Fraction, tuple[float, float, float, float]]]
) -> RedactionPlan:
    """A box a person drew, always hidden, through keyframes (seconds, (x, y, w, h) in the
    film's pixels), moving linearly between them, from the first key's time to the last's."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id)
    ordered = sorted(keys, key=lambda k: k[0])
    if not ordered or ordered[0][0] < 0 or any(min(b[2:]) <= 0 for _, b in ordered):
        raise LibraryError("a box needs times from 0 on and a width and height above 0")
    at: dict[int, tuple[float, float, float, float]] = {}
    for seconds, box in ordered:
        if at.setdefault(_frame(plan, seconds), box) != box:
            raise LibraryError("two keyframes of a box fall on one frame; give distinct times")
    keyframes = tuple(Keyframe(f, *b) for f, b in at.items())
    box_id = f"b{len(plan.manual) + 1}"
    plan = plan.with_manual(ManualBox(box_id, keyframes))
    save_plan(case, plan)
    start, end = ordered[0][0], ordered[-1][0]
    case.audit("redact.box", media_id, start=str(start), end=str(end), keys=str(len(keyframes)))
    return plan


def add_keyframe(
    case: Case, media_id: str, box_id: str, at: Fraction,
    box: tuple[float, float, float, float],
) -> RedactionPlan:  # fmt: skip
    """One more keyframe (``at`` seconds, (x, y, w, h) in the film's pixels) for the drawn box
    ``box_id``; a keyframe already on that frame is replaced."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id)
    plan = edit.keyframe(plan, box_id, _frame(plan, at), Box(*box))
    save_plan(case, plan)
    case.audit("redact.keyframe", media_id, box=box_id, at=str(at))
    return plan


def review_status(case: Case, media_id: str) -> dict[str, Any]:
    plan = require_plan(case, media_id)
    fps = Fraction(plan.fps)
    minutes = float(Fraction(plan.frames) / fps / 60) if plan.frames else 0.0
    last = plan.reviews[-1] if plan.reviews else None
    looks = moments(plan.stretches, plan.detect_every)
    return {
        "media": media_id,
        "pending": review_pending(case, plan),
        "tracks": len(plan.tracks),
        "unmarked": [t.id for t in plan.tracks if plan.mark_of(t.id) is None],
        "stretches": [
            {
                "track": s.track,
                "start": float(s.start / fps),
                "end": float(s.end / fps),
                "reason": s.reason,
            }
            for s in plan.stretches
        ],  # fmt: skip
        "stretches_per_minute": round(len(plan.stretches) / minutes, 1) if minutes else 0.0,
        "moments": [
            {"start": float(a / fps), "end": float(b / fps), "tracks": tracks}
            for a, b, tracks in looks
        ],  # fmt: skip
        "moments_per_minute": round(len(looks) / minutes, 1) if minutes else 0.0,
        "modes": [m.mode for m in plan.mutes],
        "mutes": [[float(a), float(b)] for a, b in (m.seconds() for m in plan.mutes)],
        "bleeps": [m.bleep for m in plan.mutes],
        "boxes": len(plan.manual),
        "changes_since_review": plan.changes_since_review,
        "last_review": None if last is None else {"by": last.by, "at": last.at},
    }


def approve(case: Case, media_id: str) -> RedactionPlan:
    """The person at the keyboard confirms they reviewed every flagged stretch and mark."""
    case.require(Action.ANNOTATE)
    plan = require_plan(case, media_id)
    approved = plan.approved(case.session.name, now_iso())
    save_plan(case, approved)
    review = approved.reviews[-1]
    case.audit(
        "redact.approve", media_id, tracks=str(review.tracks), stretches=str(review.stretches),
        changes=str(review.changes), marks=str(len(plan.marks)), digest=review.digest[:16],
        plan=review.digest,
    )  # fmt: skip
    return approved


def visible_tracks(case: Case, plan: RedactionPlan, purpose: Purpose) -> set[str]:
    """Tracks marked as a participant whose latest consent to ``purpose`` is given."""
    consenting = set()
    for participant in case.participants.all():
        status = case.consent.status(participant.id, purpose)
        if status is not None and status.status == "given":
            consenting.add(participant.id)
    return {track for track, who in plan.marks if who in consenting}


def export_redacted(
    case: Case,
    media_id: str,
    out: Path,
    purpose: Purpose,
    progress: Callable[[int], None] | None = None,
    cancel: Cancel | None = None,
) -> dict[str, Any]:
    """A plaintext copy for ``purpose`` that hides everyone without consent to it, re-encoded
    from the original and the reviewed plan; refused while the review is pending."""
    case.require(Action.EXPORT)
    record = case.media.get(media_id)
    plan = require_plan(case, media_id)
    check_plan_current(case, media_id)
    if review_pending(case, plan):
        raise ReviewPendingError(
            f"the redaction of {media_id} has not been reviewed since it last changed "
            f"({len(plan.stretches)} stretches to look at); nothing was written. See "
            f"'videofeedback redact review-status {media_id}', then 'redact approve {media_id}'"
        )
    visible = visible_tracks(case, plan, purpose)
    with serving(opener(case, record)) as (url,):
        has_sound = probe(url).main_audio is not None
        argv = prepare_overlay_encode(plan, url, has_sound)
        with atomic_file(out) as sink:
            written = encode(argv, overlays(plan, visible), sink.write, cancel, progress)
    os.chmod(out, 0o600)
    hidden = len(plan.tracks) - len(visible)
    case.audit(
        "media.export", media_id, to=purpose.value, redacted="yes", hidden=str(hidden),
        visible=str(len(visible)), muted=str(len(plan.mutes)),
    )  # fmt: skip
    return {"media": media_id, "out": str(out), "frames": written, "hidden_tracks": hidden,
            "visible_tracks": len(visible), "bytes": out.stat().st_size}  # fmt: skip
