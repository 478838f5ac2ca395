"""Media in a case: record, import, recover, stills, a family copy. Each checks the role and
consent, registers the encrypted file on its session, and is audited."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from fractions import Fraction
from math import ceil
from pathlib import Path
from typing import Any, cast

import numpy as np

from annotations.reel import ReelPlan
from clips.cut import Clip, render_clips
from clips.errors import DiskFullError, MediaError, UnreadableMediaError
from clips.ffmpeg import Cancel, run
from clips.fit import can_copy_picture, sound_fits
from clips.fmp4 import StoredFragments, complete_prefix
from clips.frames import frame_at, png_bytes
from clips.normalise import prepare_decode_check, prepare_import
from clips.overview import Filmstrip, Peaks, overview
from clips.probe import HDR_TRANSFERS, MediaInfo, probe
from clips.record import Recorder, RecordingResult, RecordingStatus, RecordOptions, Source
from clips.reel_render import RenderItem, prepare_reel, reel_length
from clips.serve import Opener, ServedFile, serving
from encryption import (
    AgeReader,
    DurableEncryptedFile,
    atomic_encrypted_writer,
    private_folder,
    read_encrypted,
    recover,
    write_encrypted,
)
from videofeedback.captions import caption_png, draw_caption, title_png
from videofeedback.library.cases import Case, Purpose, SessionKind
from videofeedback.library.errors import LibraryError
from videofeedback.library.library import new_id
from videofeedback.library.records import MediaId, MediaRecord
from videofeedback.library.roles import Action
from videofeedback.team.remote_media import StoreMedia, media_source


def _path(case: Case, record: MediaRecord) -> Path:
    return case.folder / str(record.file)


def opener(case: Case, record: MediaRecord) -> Opener:
    """A fresh decrypting reader of the media file, for each request the server gets; a
    recording that is only in the team store is read from there (ranged, in memory)."""
    source = media_source(case, record)
    if isinstance(source, StoreMedia):
        # opened once here: its block list, age header and final chunk are checked in the
        # caller's thread, so a swapped or cut recording is a clear error, not ffmpeg's
        source.open().close()
        return lambda: cast(ServedFile, source.open())
    identity = case.identity
    return lambda: cast(ServedFile, AgeReader(source, [identity]))


def _check_can_record(case: Case, session_id: str) -> None:
    case.require(Action.RECORD)
    if case.closed:
        raise LibraryError(f"case {case.id} is closed; nothing can be recorded for it")
    if case.sessions.get(session_id).kind != SessionKind.RECORDING:
        raise LibraryError(f"{session_id} is not a recording session")
    case.consent.require(Purpose.FILMING)


# --- recording --------------------------------------------------------------------------------


@dataclass
class RecordHooks:
    on_preview: Callable[[np.ndarray], None] | None = None
    on_status: Callable[[RecordingStatus], None] | None = None
    on_start: Callable[[Recorder], None] | None = None  # e.g. keep it to call mark()/stop()


def record(
    case: Case,
    session_id: str,
    source: Source,
    duration: Fraction | None = None,
    hooks: RecordHooks | None = None,
    options: RecordOptions | None = None,
) -> tuple[MediaId, RecordingResult]:
    """Record into the session. The media record exists before the first frame, so a crash
    leaves a recording that 'media recover' finds and seals."""
    hooks = hooks or RecordHooks()
    _check_can_record(case, session_id)
    media_id = MediaId(new_id("m"))
    file = f"media/{media_id}.mp4.age"
    private_folder(case.folder / "media")
    info = {
        "state": "recording",
        "fps": str(source.fps),
        "width": source.width,
        "height": source.height,
    }
    case.media.add(session_id, "recording", file, info, media_id=media_id)
    case.save()
    recorder = Recorder(
        source,
        DurableEncryptedFile(case.folder / file, case.recipients),
        on_preview=hooks.on_preview,
        on_status=hooks.on_status,
        options=options or RecordOptions(),
    )
    if hooks.on_start:
        hooks.on_start(recorder)
    try:
        result = recorder.record(duration)
    except DiskFullError:
        kept = recover_media(case, media_id)
        case.save()
        raise DiskFullError(
            f"the disk is full: the recording stopped and {kept['duration']} s "
            "were kept and sealed; free some space before recording again"
        ) from None
    case.media.update_info(media_id, {"state": "sealed", **result.info()})
    case.audit("media.sealed", media_id)
    case.save()
    return media_id, result


def recover_media(case: Case, media_id: str) -> dict[str, Any]:
    """Seal an interrupted recording: every complete chunk, cut back to the last complete
    fragment so it plays; the media info says how much was kept."""
    record_ = case.media.get(media_id)
    path = _path(case, record_)
    result = recover(path, [case.identity])
    with AgeReader(path, [case.identity]) as reader:
        size = reader.size()
        keep = complete_prefix(reader, size)
        if keep < size:
            reader.seek(0)
            with atomic_encrypted_writer(path, case.recipients) as writer:
                remaining = keep
                while remaining:
                    block = reader.read(min(1 << 20, remaining))
                    writer.write(block)
                    remaining -= len(block)
    duration = _probe_duration(case, record_)
    case.media.update_info(media_id, {"state": "recovered", "duration": str(duration)})
    case.audit("media.recover", media_id, kept_bytes=str(keep))
    return {
        "media": media_id,
        "duration": float(duration),
        "kept_bytes": keep,
        "already_sealed": result.already_sealed,
    }


def _probe_duration(case: Case, record_: MediaRecord) -> Fraction:
    with serving(opener(case, record_)) as (url,):
        try:
            info = probe(url)
        except UnreadableMediaError:
            return Fraction(0)
    return info.duration or Fraction(0)


# --- import -----------------------------------------------------------------------------------


def import_file(
    case: Case,
    session_id: str,
    source: Path,
    progress: Callable[[float], None] | None = None,
    cancel: Cancel | None = None,
) -> MediaId:
    """Normalise a phone or camera file into an encrypted recording. The original is only read."""
    _check_can_record(case, session_id)
    if not source.is_file():
        raise UnreadableMediaError(f"{source} is not a file")
    info = probe(str(source))
    if _decodable_frames(str(source), info) == 0:
        raise UnreadableMediaError(
            f"{source.name}: no picture could be decoded; the file is damaged or incomplete"
        )
    copy = can_copy_picture(str(source), info)
    copy_sound = copy and sound_fits(info)
    argv, fps, (width, height) = prepare_import(
        str(source), info, copy_picture=copy, copy_sound=copy_sound
    )
    media_id = MediaId(new_id("m"))
    file = f"media/{media_id}.mp4.age"
    private_folder(case.folder / "media")
    with atomic_encrypted_writer(case.folder / file, case.recipients) as writer:
        fragments = StoredFragments(writer.write)
        result = run(
            argv,
            sink=fragments,
            duration=info.duration,
            progress=progress,
            cancel=cancel,
            what=f"importing {source.name}",
        )
        fragments.finish()
        if result.frames == 0:
            raise UnreadableMediaError(
                f"{source.name}: no picture could be decoded; the file is damaged or incomplete"
            )
    details = {
        "state": "sealed",
        "fps": str(fps),
        "width": width,
        "height": height,
        "duration": str(Fraction(result.frames) / fps),
        "video_codec": "h264",
        "audio_codec": "aac",
        "markers": [],
        "original": source.name,
        "original_codec": info.main_video.codec if info.main_video else "",
        "picture": "copied" if copy else "re-encoded",
        "sound": "copied" if copy_sound else "re-encoded",
    }
    if info.main_video and info.main_video.hdr:
        details["colour"] = f"{HDR_TRANSFERS[info.main_video.transfer]} tone-mapped to SDR"
    case.media.add(session_id, "import", file, details, media_id=media_id)
    return media_id


def _decodable_frames(source: str, info: MediaInfo) -> int:
    try:
        return run(prepare_decode_check(source, info), what="checking the file").frames
    except MediaError:
        return 0


# --- stills and copies ------------------------------------------------------------------------


def still(case: Case, media_id: str, at: Fraction, caption: str = "") -> MediaId:
    """The exact frame at ``at`` as an encrypted PNG (with ``caption`` drawn on it, in any
    script), registered on the same session."""
    case.require(Action.ANNOTATE)
    record_ = case.media.get(media_id)
    fps = record_.frame_rate()
    with serving(opener(case, record_)) as (url,):
        frame = frame_at(url, at, fps, record_.size)
    if caption:
        frame = draw_caption(frame, caption)
    still_id = MediaId(new_id("m"))
    file = f"media/{still_id}.png.age"
    write_encrypted(case.folder / file, png_bytes(frame), case.recipients)
    frame_number = int(at * fps)
    case.media.add(
        record_.session,
        "still",
        file,
        {
            "source": media_id,
            "time": str(Fraction(frame_number) / fps),
            "frame": frame_number,
            "width": frame.shape[1],
            "height": frame.shape[0],
            "caption": bool(caption),
        },
        media_id=still_id,
    )
    return still_id


def export_for_family(case: Case, media_id: str, out: Path) -> dict[str, Any]:
    """A plaintext copy for the family: everyone without family-copy consent hidden (a
    recording needs a reviewed redaction plan; a reel must be rendered for family-copy).
    See videofeedback/redacted.py."""
    from videofeedback.redacted import export_copy  # redacted builds on this module

    return export_copy(case, media_id, out, Purpose.FAMILY_COPY)


# --- reels ------------------------------------------------------------------------------------


def draft_reel(
    case: Case,
    session_id: str,
    plan: ReelPlan,
    progress: Callable[[float], None] | None = None,
    cancel: Cancel | None = None,
    builder: dict[str, Any] | None = None,
) -> MediaId:
    """The fast path: the plan's clips, smart-cut and joined (captions, stills, title and
    fades are left out of a draft). Clips must come from recordings of one size and rate."""
    case.require(Action.BUILD_REEL)
    case.sessions.get(session_id)
    clips = [item for item in plan.items if item.kind == "clip"]
    if not clips:
        raise LibraryError("a draft reel needs at least one clip")
    records = {item.media: case.media.get(item.media) for item in clips}
    shapes = {(r.frame_rate(), *r.size) for r in records.values()}
    if len(shapes) != 1:
        raise LibraryError(
            "the clips come from recordings of different sizes or frame rates; "
            "a draft joins only like with like"
        )
    fps, width, height = shapes.pop()
    reel_id = MediaId(new_id("m"))
    file = f"media/{reel_id}.mp4.age"
    ids = list(records)
    with serving(*(opener(case, records[m]) for m in ids)) as urls:
        url_of = dict(zip(ids, urls, strict=True))
        cuts = [
            Clip(
                url_of[i.media],
                ceil(i.start * fps),
                ceil((i.end or i.start) * fps),
                open=opener(case, records[i.media]),
            )
            for i in clips
        ]
        with atomic_encrypted_writer(case.folder / file, case.recipients) as writer:
            frames = render_clips(cuts, fps, writer.write, progress, cancel)
    info: dict[str, Any] = {
        "state": "sealed",
        "draft": True,
        "fps": str(fps),
        "width": width,
        "height": height,
        "duration": str(Fraction(frames) / fps),
        "video_codec": "h264",
        "audio_codec": "aac",
        "items": [i.ref or f"{i.media}@{i.start}" for i in clips],
    }
    if builder is not None:  # the reel builder reopens on it (videofeedback/reels.py)
        info["builder"] = builder
    case.media.add(session_id, "reel", file, info, media_id=reel_id)
    case.audit("reel.build", reel_id, draft="yes", clips=str(len(clips)))
    return reel_id


# --- timeline overview ------------------------------------------------------------------------


def build_overview(case: Case, media_id: str, interval: Fraction = Fraction(2)) -> dict[str, Any]:
    """Thumbnails every ``interval`` seconds and waveform peaks, cached as encrypted files."""
    record_ = case.media.get(media_id)
    with serving(opener(case, record_)) as (url,):
        strip, levels = overview(url, interval, record_.size)
    files = {"filmstrip": f"media/{media_id}.filmstrip.age", "peaks": f"media/{media_id}.peaks.age"}
    write_encrypted(case.folder / files["filmstrip"], strip.to_bytes(), case.recipients)
    write_encrypted(case.folder / files["peaks"], levels.to_bytes(), case.recipients)
    case.media.update_info(media_id, {"overview": {**files, "interval": str(interval)}})
    return {"media": media_id, "thumbnails": len(strip.thumbnails), "peaks": len(levels.minimum)}


def load_overview(case: Case, media_id: str) -> tuple[Filmstrip, Peaks]:
    """The cached overview, built first if there is none yet."""
    info = case.media.get(media_id).info
    kept = info.get("overview", {})
    if not kept or not all((case.folder / kept[k]).exists() for k in ("filmstrip", "peaks")):
        build_overview(case, media_id)  # none yet, or the recording came from the team store
        info = case.media.get(media_id).info
    files = info["overview"]
    strip = Filmstrip.from_bytes(read_encrypted(case.folder / files["filmstrip"], [case.identity]))
    levels = Peaks.from_bytes(read_encrypted(case.folder / files["peaks"], [case.identity]))
    return strip, levels


def render_reel(
    case: Case,
    session_id: str,
    plan: ReelPlan,
    progress: Callable[[float], None] | None = None,
    cancel: Cancel | None = None,
    purpose: Purpose | None = None,
    builder: dict[str, Any] | None = None,
) -> MediaId:
    """The full render: title card, clips with slow motion and holds, stills held on screen,
    captions in any script, fades; one encrypted 720p H.264/AAC MP4. With ``purpose`` (any
    use but the practitioner's own review) every clip and still comes from its recording
    redacted for that purpose (videofeedback/redacted.py); refused without reviewed plans."""
    from videofeedback import redacted  # redacted builds on this module

    case.require(Action.BUILD_REEL)
    case.sessions.get(session_id)
    plan.check()
    width, height = plan.size
    records = {item.media: case.media.get(item.media) for item in plan.items}
    media_ids = list(records)
    reel_id = MediaId(new_id("m"))
    if purpose is not None:
        for media_id in media_ids:
            if records[media_id].kind in redacted.FILMS:
                redacted.reviewed_plan(case, media_id)  # refused before any work
        sources: AbstractContextManager[dict[str, Opener]] = redacted.redacted_sources(
            case, media_ids, purpose, reel_id
        )
    else:
        sources = nullcontext({m: opener(case, records[m]) for m in media_ids})
    with sources as openers, serving(*(openers[m] for m in media_ids)) as urls:
        url_of = dict(zip(media_ids, urls, strict=True))
        images = _reel_images(case, plan, records, url_of)
        with serving(*(_memory(data) for data in images)) as image_urls:
            items = _render_items(plan, url_of, iter(image_urls))
            argv = prepare_reel(items, plan.size, Fraction(30), plan.fade)
            file = f"media/{reel_id}.mp4.age"
            with atomic_encrypted_writer(case.folder / file, case.recipients) as writer:
                fragments = StoredFragments(writer.write)
                run(
                    argv,
                    sink=fragments,
                    duration=reel_length(items, plan.fade),
                    progress=progress,
                    cancel=cancel,
                    what="rendering the reel",
                )
                fragments.finish()
    info: dict[str, Any] = {
        "state": "sealed",
        "draft": False,
        "fps": "30",
        "width": width,
        "height": height,
        "duration": str(reel_length(items, plan.fade)),
        "video_codec": "h264",
        "audio_codec": "aac",
        "items": [i.ref or f"{i.media}@{i.start}" for i in plan.items],
        **({"redacted_for": purpose.value} if purpose is not None else {}),
    }
    if builder is not None:  # the reel builder reopens on it (videofeedback/reels.py)
        info["builder"] = builder
    case.media.add(session_id, "reel", file, info, media_id=reel_id)
    made_for = {"purpose": purpose.value} if purpose is not None else {}
    case.audit("reel.build", reel_id, draft="no", items=str(len(plan.items)), **made_for)
    return reel_id


def _memory(data: bytes) -> Opener:
    return lambda: cast(ServedFile, io.BytesIO(data))


def _reel_images(
    case: Case, plan: ReelPlan, records: dict[str, MediaRecord], url_of: dict[str, str]
) -> list[bytes]:
    """Every picture the render overlays or holds, in the order _render_items takes them."""
    width, height = plan.size
    images = []
    if plan.title is not None:
        images.append(title_png(plan.title.text, plan.title.subtitle, width, height))
    for item in plan.items:
        if item.kind == "still":
            source = records[item.media]
            frame = frame_at(url_of[item.media], item.start, source.frame_rate(), source.size)
            images.append(png_bytes(frame))
        if item.caption:
            images.append(caption_png(item.caption, width, height))
    return images


def _render_items(
    plan: ReelPlan, url_of: dict[str, str], images: Iterator[str]
) -> list[RenderItem]:
    items = []
    if plan.title is not None:
        items.append(RenderItem("image", next(images), plan.title.hold))
    for item in plan.items:
        if item.kind == "still":
            url = next(images)
            caption = next(images) if item.caption else None
            items.append(RenderItem("image", url, item.length(), caption_url=caption))
        else:
            caption = next(images) if item.caption else None
            assert item.end is not None
            items.append(
                RenderItem(
                    "clip",
                    url_of[item.media],
                    item.length(),
                    item.start,
                    item.end - item.start,
                    item.slow,
                    item.hold,
                    caption,
                )
            )
    return items
