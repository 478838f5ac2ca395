"""Redaction in a case: find, mark, mute, review, export. The attackers: the family copy's
reader (must not see a non-consenting person, nor hear a muted name), and whoever holds a
copy of the library folder (must find no frame, crop, box or name in plaintext)."""

import subprocess
from datetime import date
from fractions import Fraction

import numpy as np
import pytest

from clips.ffmpeg import ffmpeg_exe
from clips.redact.render import hidden_box
from tests import plaintext
from tests.media.conftest import decode_frames
from tests.media.redact_scenes import GRACE, coverage, two_people
from videofeedback import media, redaction
from videofeedback.library import Library, Programme, Purpose, Role, SessionKind, create_case
from videofeedback.library.errors import LibraryError

pytestmark = pytest.mark.skipif(not GRACE.exists(), reason=f"no faces corpus at {GRACE.parent}")
SCENE = two_people(fps=30)  # what an import keeps as it is (30 fps)


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redact") / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family Redact", Programme.VIG, date.today())
    mother = case.participants.add("Rosalind", "mother")
    brother = case.participants.add("Theodore", "older brother")
    for who in (mother, brother):
        case.consent.set(who, Purpose.FILMING, True)
    case.consent.set(mother, Purpose.FAMILY_COPY, True)
    session = case.sessions.new(SessionKind.RECORDING, date.today())
    film = SCENE.write(tmp_path_factory.mktemp("film") / "two.mp4")
    media_id = media.import_file(case, session, film)
    film.unlink()
    case.save()
    yield case, media_id, mother, brother
    library.close()


def _tracks_left_and_right(plan):
    left, right = sorted(plan.tracks, key=lambda t: t.boxes[0].x)
    return left, right


def _decode(path, size):
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
         "-pix_fmt", "bgr24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, np.uint8).reshape(-1, size[1], size[0], 3)


def _sound(path):
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
         "-ar", "48000", "-f", "s16le", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, np.int16).astype(float)


def _crop(frame, box):
    x, y = int(box.x), int(box.y)
    return frame[y : y + int(box.h), x : x + int(box.w)].astype(float)


def test_export_is_refused_until_a_person_reviewed(family, tmp_path):
    case, media_id, mother, brother = family
    out = tmp_path / "copy.mp4"
    with pytest.raises(LibraryError, match="people find"):
        redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    plan = redaction.find_people(case, media_id)
    assert len(plan.tracks) == 2
    with pytest.raises(redaction.ReviewPendingError, match="redact approve"):
        redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    assert not out.exists() and not list(tmp_path.iterdir())
    case.save()


def test_the_family_copy_hides_the_brother_shows_the_mother_and_mutes(family, tmp_path):
    case, media_id, mother, brother = family
    plan = redaction.require_plan(case, media_id)
    left, right = _tracks_left_and_right(plan)
    redaction.mark(case, media_id, left.id, mother)
    redaction.mark(case, media_id, right.id, brother)  # a participant without family-copy consent
    redaction.mute(case, media_id, Fraction(1), Fraction(2))
    assert redaction.review_status(case, media_id)["pending"]
    redaction.approve(case, media_id)
    out = tmp_path / "family.mp4"
    result = redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    assert (result["hidden_tracks"], result["visible_tracks"]) == (1, 1)
    assert out.stat().st_mode & 0o777 == 0o600
    copy, original = _decode(out, (SCENE.width, SCENE.height)), np.stack(list(SCENE))
    assert len(copy) == SCENE.frames
    hidden, truth = [], []
    for number in range(0, SCENE.frames, 7):
        mother_face, brother_face = SCENE.render(number)[1]
        shown, seen = _crop(copy[number], mother_face), _crop(original[number], mother_face)
        assert np.corrcoef(shown.ravel(), seen.ravel())[0, 1] > 0.9  # only the encoder's loss
        hidden.append(_crop(copy[number], brother_face).ravel())
        truth.append(_crop(original[number], brother_face).ravel())
        assert np.abs(hidden[-1] - truth[-1]).mean() > 30
    # nothing of his face: no correlation beyond noise, over ~3,500 independent cells (a
    # chance correlation has a standard deviation under 0.02)
    r = np.corrcoef(np.concatenate(hidden), np.concatenate(truth))[0, 1]
    assert abs(r) < 0.1, r
    sound = _sound(out)
    rms = [np.sqrt(np.mean(sound[int(a * 48000) : int(b * 48000)] ** 2)) for a, b in
           ((0.2, 0.9), (1.05, 1.95), (2.1, 2.8))]  # fmt: skip
    assert rms[0] > 1000 and rms[2] > 1000 and rms[1] < 1, rms
    entries = case.audit_log().entries([case.identity])
    approval = next(e for e in entries if e.action == "redact.approve")
    assert approval.user == "bob" and approval.detail["tracks"] == "2"
    assert approval.detail["changes"] == "3"  # two marks and a mute
    assert entries[-1].action == "media.export" and entries[-1].detail["redacted"] == "yes"
    case.save()


def test_the_practitioners_own_review_still_shows_the_brother(family):
    """The stored original is never changed: the unredacted recording keeps his face."""
    case, media_id, _, _ = family
    frames = decode_frames(case, media_id)
    _, brother_face = SCENE.render(10)[1]
    assert (
        np.abs(_crop(frames[10], brother_face) - _crop(SCENE.render(10)[0], brother_face)).mean()
        < 6
    )


def test_withdrawn_consent_hides_the_mother_too(family, tmp_path):
    case, media_id, mother, _ = family
    case.consent.set(mother, Purpose.FAMILY_COPY, False)
    plan = redaction.require_plan(case, media_id)
    assert redaction.visible_tracks(case, plan, Purpose.FAMILY_COPY) == set()
    left, _ = _tracks_left_and_right(plan)
    out = tmp_path / "again.mp4"
    redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    copy = _decode(out, (SCENE.width, SCENE.height))
    box = hidden_box(left.boxes[10])
    assert coverage(SCENE.render(10)[1][0], [box], (SCENE.width, SCENE.height)) == 1.0
    mother_face = SCENE.render(10)[1][0]
    assert (
        np.abs(_crop(copy[10], mother_face) - _crop(SCENE.render(10)[0], mother_face)).mean() > 30
    )
    case.consent.set(mother, Purpose.FAMILY_COPY, True)
    case.save()


def test_a_drawn_box_is_hidden_where_it_moves(family, tmp_path):
    case, media_id, _, _ = family
    redaction.add_box(
        case, media_id, Fraction(0), Fraction(2), (200, 250, 60, 60), (400, 250, 60, 60)
    )
    with pytest.raises(redaction.ReviewPendingError):
        redaction.export_redacted(case, media_id, tmp_path / "no.mp4", Purpose.FAMILY_COPY)
    redaction.approve(case, media_id)
    out = tmp_path / "boxed.mp4"
    redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    copy = _decode(out, (SCENE.width, SCENE.height))
    middle = SCENE.render(30)[0][250:310, 300:360].astype(float)  # at 1 s: x = 300
    assert (
        abs(np.corrcoef(copy[30][250:310, 300:360].astype(float).ravel(), middle.ravel())[0, 1])
        < 0.1
    )
    after = SCENE.render(75)[0][250:310, 300:360].astype(float)  # after 2 s: shown again
    assert np.corrcoef(copy[75][250:310, 300:360].astype(float).ravel(), after.ravel())[0, 1] > 0.9
    case.save()


def test_the_hiding_lands_on_the_very_frame_it_was_planned_for(family, tmp_path):
    case, media_id, _, _ = family
    at = Fraction(45, 30)  # frame 45 alone
    redaction.add_box(case, media_id, at, at, (500, 280, 100, 60))
    redaction.approve(case, media_id)
    out = tmp_path / "one-frame.mp4"
    redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    copy = _decode(out, (SCENE.width, SCENE.height))
    spot = (slice(285, 335), slice(505, 595))
    changed = [
        np.abs(copy[n][spot].astype(float) - SCENE.render(n)[0][spot]).mean() for n in (44, 45, 46)
    ]
    assert changed[0] < 8 and changed[1] > 30 and changed[2] < 8, changed
    case.save()


def test_a_bleeped_range_carries_the_tone_and_nothing_of_the_original(family, tmp_path):
    case, media_id, _, _ = family
    redaction.mute(case, media_id, Fraction(22, 10), Fraction(28, 10), bleep=True)
    redaction.approve(case, media_id)
    out = tmp_path / "bleeped.mp4"
    redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    sound = _sound(out)

    def strength(start, end, hz):
        part = sound[int(start * 48000) : int(end * 48000)]
        spectrum = np.abs(np.fft.rfft(part))
        return spectrum[int(hz * len(part) / 48000)] / len(part)

    assert strength(2.3, 2.7, 1000) > 200 and strength(2.3, 2.7, 440) < 5  # bleep only
    assert strength(0.2, 0.9, 440) > 1000 and strength(0.2, 0.9, 1000) < 5  # untouched
    case.save()


def test_marks_must_name_a_participant_of_the_case(family):
    case, media_id, _, _ = family
    track = redaction.require_plan(case, media_id).tracks[0].id
    with pytest.raises(LibraryError, match="not a participant"):
        redaction.mark(case, media_id, track, "p-someone-else")


def test_no_plaintext_frames_boxes_or_names_in_the_library(family):
    case, media_id, *_ = family
    plan_file = redaction.plan_file(case, media_id)
    assert plan_file.exists()
    markers = (*plaintext.MEDIA, *plaintext.names("Rosalind", "Theodore"), b'"boxes"', b'"marks"')
    for path in case.session.library.folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(m in data for m in markers), path
    assert plan_file.read_bytes().startswith(b"age-encryption.org/v1")
    assert sorted(p.name.split(".", 1)[1] for p in plan_file.parent.iterdir()) == [
        "mp4.age", "redaction.age",
    ]  # fmt: skip


def test_a_disguised_range_is_pitch_shifted_and_the_rest_untouched(family, tmp_path):
    """The scene's sound is a 440 Hz tone: disguised, it is ~308 Hz (x0.7) in the range, and
    nothing of 440 Hz is left there; before the range it is the original; muted is silent."""
    case, media_id, _, _ = family
    redaction.mute(case, media_id, Fraction(3, 10), Fraction(9, 10), mode="disguise")
    plan = redaction.require_plan(case, media_id)
    assert [m.mode for m in plan.mutes][-1] == "disguise" and plan.review_pending()
    redaction.approve(case, media_id)
    out = tmp_path / "disguised.mp4"
    redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
    sound = _sound(out)

    def strength(start, end, hz):
        part = sound[int(start * 48000) : int(end * 48000)]
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
        bin_ = int(round(hz * len(part) / 48000))
        return spectrum[bin_ - 2 : bin_ + 3].max() / len(part)

    inside, before = (0.4, 0.8), (0.0, 0.25)
    assert strength(*inside, 308) > 20 * strength(*inside, 440), "not shifted"
    assert strength(*before, 440) > 20 * strength(*before, 308), "outside changed"
    assert strength(*before, 440) > 0.5 * strength(*inside, 308)  # same loudness, roughly
    assert np.abs(sound[int(1.1 * 48000) : int(1.9 * 48000)]).max() < 50  # muted: silent
    case.save()
