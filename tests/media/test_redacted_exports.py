"""Every way footage leaves applies the redaction (videofeedback/redacted.py): an exported
still, a reel rendered for a purpose (and only such a reel exported for it), the session
report's stills, the shared review's film; ``media export`` needs a purpose. The attacker:
whoever receives the copy, looking for the brother who never consented to it."""

from __future__ import annotations

import subprocess
from datetime import date
from fractions import Fraction

import cv2
import numpy as np
import pytest

from annotations.reel import ReelPlan
from clips.ffmpeg import ffmpeg_exe
from tests.media.redact_scenes import GRACE, two_people
from videofeedback import media, redacted, redaction
from videofeedback.library import Library, Programme, Purpose, Role, SessionKind, create_case
from videofeedback.library.annotating import open_annotations
from videofeedback.library.errors import LibraryError
from videofeedback.redaction import ReviewPendingError
from videofeedback.report import session_report

pytestmark = pytest.mark.skipif(not GRACE.exists(), reason=f"no faces corpus at {GRACE.parent}")
SCENE = two_people(fps=30)
FRAME = 20  # a frame where both are in view


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    """Mother (every consent) on the left, her older son (filming only) on the right; the
    redaction found, named and approved."""
    folder = tmp_path_factory.mktemp("redacted") / "lib"
    library, alice = Library.create(
        folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30
    )
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family Redacted", Programme.VIG, date.today())
    mother = case.participants.add("Rosalind", "mother")
    son = case.participants.add("Theodore", "older brother")
    for purpose in Purpose:
        case.consent.set(mother, purpose, True)
    case.consent.set(son, Purpose.FILMING, True)
    session = case.sessions.new(SessionKind.RECORDING, date.today())
    film = SCENE.write(tmp_path_factory.mktemp("film") / "two.mp4")
    media_id = media.import_file(case, session, film)
    film.unlink()
    plan = redaction.find_people(case, media_id)
    left, right = sorted(plan.tracks, key=lambda t: t.boxes[0].x)
    redaction.mark(case, media_id, left.id, mother)
    redaction.mark(case, media_id, right.id, son)
    redaction.approve(case, media_id)
    case.save()
    yield case, session, media_id, (left, right), son
    library.close()


def _faces(tracks, frame):
    """The mother's and the son's face boxes (as found) in ``frame``."""
    return [t.at(frame).box for t in tracks]


def _difference(a, b, box, scale=1.0):
    x, y = int(box.x * scale), int(box.y * scale)
    w, h = int(box.w * scale), int(box.h * scale)
    one = a[y : y + h, x : x + w].astype(float)
    two = b[y : y + h, x : x + w].astype(float)
    return float(np.abs(one - two).mean())


def test_media_export_needs_a_purpose_and_names_the_choices():
    with pytest.raises(LibraryError, match="--purpose family-copy.*own-review"):
        redacted.parse_export_purpose(None)
    with pytest.raises(LibraryError, match="use one of .*own-review"):
        redacted.parse_export_purpose("court")
    assert redacted.parse_export_purpose("own-review") is None
    assert redacted.parse_export_purpose("family-copy") is Purpose.FAMILY_COPY


def test_an_exported_still_hides_the_son_and_keeps_the_mother(family, tmp_path):
    case, _, media_id, tracks, _ = family
    still_id = media.still(case, media_id, Fraction(FRAME, 30))
    out = tmp_path / "still.png"
    redacted.export_copy(case, still_id, out, Purpose.FAMILY_COPY)
    shown = cv2.imread(str(out))
    original = SCENE.render(FRAME)[0]
    mother, son = _faces(tracks, FRAME)
    assert _difference(shown, original, mother) < 6  # PNG of a decoded H.264 frame
    assert _difference(shown, original, son) > 30
    son_area = shown[int(son.y) : int(son.y + son.h), int(son.x) : int(son.x + son.w)]
    face = original[int(son.y) : int(son.y + son.h), int(son.x) : int(son.x + son.w)]
    correlation = np.corrcoef(son_area.ravel().astype(float), face.ravel().astype(float))[0, 1]
    assert abs(correlation) < 0.1  # nothing of his face: noise
    entries = case.audit_log().entries([case.identity])
    assert entries[-1].action == "media.export" and entries[-1].detail["to"] == "family-copy"


def test_a_reel_for_the_family_is_rendered_redacted_and_only_it_is_exported(family, tmp_path):
    case, session, media_id, tracks, _ = family
    plan = ReelPlan.from_dict(
        {"fade": 0, "size": "640x360",
         "items": [{"kind": "clip", "media": media_id, "start": "0", "end": "2"}]}
    )  # fmt: skip
    own = media.render_reel(case, session, plan)
    with pytest.raises(LibraryError, match="render it again for family-copy"):
        redacted.export_copy(case, own, tmp_path / "own.mp4", Purpose.FAMILY_COPY)
    assert not (tmp_path / "own.mp4").exists()
    reel = media.render_reel(case, session, plan, purpose=Purpose.FAMILY_COPY)
    assert not list((case.folder / "media").glob(".*redacted*"))  # the renders are gone
    out = tmp_path / "reel.mp4"
    redacted.export_copy(case, reel, out, Purpose.FAMILY_COPY)
    frame = _frame(out, FRAME, (640, 360))
    original = SCENE.render(FRAME)[0]
    mother, son = _faces(tracks, FRAME)
    assert _difference(frame, original, mother) < 12  # two H.264 generations
    assert _difference(frame, original, son) > 30
    entries = case.audit_log().entries([case.identity])
    built = [e for e in entries if e.action == "reel.build" and e.object == reel]
    assert built[0].detail["purpose"] == "family-copy"


def test_a_reel_for_a_purpose_is_refused_while_a_source_is_not_reviewed(family, tmp_path):
    case, session, media_id, tracks, son = family
    redaction.mark(case, media_id, tracks[1].id, "other")  # a change: review again
    plan = ReelPlan.from_dict(
        {"fade": 0, "items": [{"kind": "clip", "media": media_id, "start": "0", "end": "1"}]}
    )
    try:
        with pytest.raises(ReviewPendingError, match="not been reviewed"):
            media.render_reel(case, session, plan, purpose=Purpose.TRAINING)
        with pytest.raises(ReviewPendingError):
            redacted.export_copy(case, media_id, tmp_path / "x.mp4", Purpose.FAMILY_COPY)
        assert not (tmp_path / "x.mp4").exists()
    finally:
        redaction.mark(case, media_id, tracks[1].id, son)  # back as it was approved
    assert not redaction.load_plan(case, media_id).review_pending()


def test_the_reports_stills_hide_people_who_are_not_participants(family, tmp_path):
    case, session, media_id, tracks, son = family
    notes = open_annotations(case, media_id)
    notes.editor.add_still(Fraction(FRAME, 30), "Both of them")
    notes.save()
    other = redaction.mark(case, media_id, tracks[1].id, "other")
    redaction.approve(case, media_id)
    try:
        report = session_report(case, session)
        [still] = report.stills
        shown = cv2.imdecode(np.frombuffer(still.png, np.uint8), cv2.IMREAD_COLOR)
        mother, stranger = _faces(tracks, FRAME)
        original = SCENE.render(FRAME)[0]
        assert _difference(shown, original, mother) < 6
        assert _difference(shown, original, stranger) > 30
        assert report.withheld == 0 and other.mark_of(tracks[1].id) == "other"
    finally:
        redaction.mark(case, media_id, tracks[1].id, son)
        redaction.approve(case, media_id)


def test_the_shared_review_plays_the_redacted_film_unless_everyone_consented(family):
    case, _, media_id, tracks, son = family
    film = redacted.shared_review_film(case, media_id)
    assert film is not None and film[4:8] == b"ftyp"  # in memory, never on disk
    frame = _frame_bytes(film, FRAME, (640, 360))
    mother, boy = _faces(tracks, FRAME)
    assert _difference(frame, SCENE.render(FRAME)[0], boy) > 30
    case.consent.set(son, Purpose.SHARED_REVIEW, True)
    try:
        assert redacted.shared_review_film(case, media_id) is None  # the original
    finally:
        case.consent.set(son, Purpose.SHARED_REVIEW, False)


def _frame(path, number, size):
    return _frame_bytes(path.read_bytes(), number, size)


def _frame_bytes(data, number, size):
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-vf", f"select=eq(n\\,{number})",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        input=data, capture_output=True, check=True,
    )  # fmt: skip
    width, height = size
    return np.frombuffer(done.stdout[: width * height * 3], np.uint8).reshape(height, width, 3)
