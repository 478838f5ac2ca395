"""Plaintext exports share one path (videofeedback.exports): the session report like the family
copy is audited before its first byte and after, and a failed export leaves nothing behind,
not even a note to sweep. docs/FORMAT.md, 10.3."""

from __future__ import annotations

import stat
from fractions import Fraction

import pytest

from clips.synthetic import SyntheticSource
from tests.media.conftest import AS_FAST_AS_IT_ENCODES
from videofeedback import exports, media
from videofeedback.library.annotating import open_annotations
from videofeedback.report import export_report


@pytest.fixture(scope="module")
def recorded(studio) -> str:
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(320, 240, Fraction(30)), Fraction(1),
        options=AS_FAST_AS_IT_ENCODES,
    )
    work = open_annotations(studio.case, media_id)
    work.editor.add_moment(Fraction(1, 2), None, (), "A lovely turn", "PRIVATE: a worry")
    work.save()
    return media_id


def _entries(case):
    return case.audit_log().entries([case.identity])


def test_the_report_is_audited_before_its_first_byte_and_after(
    studio, recorded, tmp_path, qt_gui
):
    out = tmp_path / "report.pdf"
    before = len(_entries(studio.case))
    export_report(studio.case, studio.session_id, out)
    new = _entries(studio.case)[before:]
    start = next(e for e in new if e.action == "export.start")
    done = next(e for e in new if e.action == "report.export")
    assert start.seq < done.seq and start.detail["export"] == done.detail["export"]
    assert start.detail["of"] == "report.export" and str(tmp_path) not in repr(new)
    assert out.read_bytes().startswith(b"%PDF") and b"PRIVATE" not in out.read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert exports.pending_exports(studio.case.session) == []


def test_a_failed_export_leaves_no_file_and_nothing_to_sweep(studio, recorded, tmp_path):
    out = tmp_path / "family.mp4"
    with pytest.raises(RuntimeError):
        with exports.plaintext_export(studio.case, out, "media.export", recorded) as sink:
            sink.write(b"ftypiso5 part of the footage")
            assert len(exports.pending_exports(studio.case.session)) == 1  # noted while written
            raise RuntimeError("the disk went away")
    assert list(tmp_path.iterdir()) == []
    assert exports.pending_exports(studio.case.session) == []
    assert exports.sweep_unfinished_exports(studio.case.session) == []
