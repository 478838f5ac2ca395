"""Every interchange format round-trips (hypothesis); the .eaf also reads in pympi-ling."""

from fractions import Fraction

import pympi
import pytest
from hypothesis import HealthCheck, given, settings

from annotations import Annotations, InterchangeError, default_codebook
from annotations.interchange import (
    from_boris_text,
    from_csv_text,
    from_eaf_text,
    from_json_text,
    from_vtt_text,
    import_text,
    to_csv_text,
    to_eaf_text,
    to_json_text,
    to_vtt_text,
)
from tests.annotations.strategies import FPS, annotation_sets

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def empty_like(model: Annotations) -> Annotations:
    return Annotations(model.media_id, model.fps, model.duration, model.codebook)


@SETTINGS
@given(model=annotation_sets())
def test_json_round_trip(model):
    assert from_json_text(to_json_text(model), empty_like(model)) == model.moments


@SETTINGS
@given(model=annotation_sets())
def test_csv_round_trip(model):
    assert from_csv_text(to_csv_text(model), empty_like(model)) == model.moments


@SETTINGS
@given(model=annotation_sets())
def test_vtt_round_trip(model):
    back = {m.id: m for m in from_vtt_text(to_vtt_text(model), empty_like(model))}
    assert set(back) == {m.id for m in model.moments}
    for m in model.moments:
        assert (back[m.id].start, back[m.id].end, back[m.id].caption) == (m.start, m.end, m.caption)


@SETTINGS
@given(model=annotation_sets())
def test_eaf_round_trip(model):
    back = {m.id: m for m in from_eaf_text(to_eaf_text(model), empty_like(model))}
    assert set(back) == {m.id for m in model.moments}
    for m in model.moments:
        got = back[m.id]
        assert (got.start, got.end, sorted(got.codes), got.caption) == (
            m.start,
            m.end,
            sorted(m.codes),
            m.caption,
        )


@SETTINGS
@given(model=annotation_sets())
def test_eaf_reads_in_pympi(tmp_path_factory, model):
    """The file opens in ELAN's own reader library: one tier per category, exact values."""
    path = tmp_path_factory.mktemp("eaf") / "moments.eaf"
    path.write_text(to_eaf_text(model), encoding="utf-8")
    eaf = pympi.Elan.Eaf(str(path))
    tiers = set(eaf.get_tier_names())
    assert {c.label for c in model.codebook.categories} <= tiers
    assert "videofeedback moment" in tiers
    ids = sorted(eaf.get_annotation_data_for_tier("videofeedback moment"))
    assert len(ids) == len(model.moments)
    expected = sorted(
        (round(m.start * 1000), round(m.end * 1000) if m.end else round(m.start * 1000) + 1, m.id)
        for m in model.moments
    )
    assert [(s, e, v) for s, e, v in ids] == expected
    for m in model.moments:
        for code in m.codes:
            tier = model.codebook.category_of(code).label
            values = [
                v
                for s, e, v in eaf.get_annotation_data_for_tier(tier)
                if s == round(m.start * 1000)
            ]
            assert any(code in v.split("; ") for v in values)


def test_import_sets_the_coder_and_checks_codes():
    codebook = default_codebook()
    model = Annotations("m-1", FPS, Fraction(60), codebook)
    csv_text = "id,start,end,codes,caption\nmo-1,1.0,2.0,attentive,hello\n"
    moments = import_text(csv_text, "x.csv", model, "sue")
    assert moments[0].coder == "sue" and moments[0].codes == ("attentive",)
    from annotations import CodebookError

    with pytest.raises(CodebookError):
        import_text("id,start,end,codes\nmo-1,1,2,nope\n", "x.csv", model, "sue")
    with pytest.raises(InterchangeError):
        import_text("hello", "x.vtt", model, "sue")
    with pytest.raises(InterchangeError, match="unknown file type"):
        import_text("x", "x.docx", model, "sue")


BORIS_CSV = """Observation id,Observation date,Description,Media file,Total length,FPS,Subject,Behavior,Behavioral category,Comment,Status,Time
obs1,2026-01-12 10:00:00,,film.mp4,120.0,30,Mother,Waiting,Encouraging,lovely pause,START,12.5
obs1,2026-01-12 10:00:00,,film.mp4,120.0,30,Mother,Receiving with words,Receiving,,POINT,13.0
obs1,2026-01-12 10:00:00,,film.mp4,120.0,30,Mother,Waiting,Encouraging,,STOP,15.2
obs1,2026-01-12 10:00:00,,film.mp4,120.0,30,Baby,guiding.scaffolding,Guiding,,START,30
obs1,2026-01-12 10:00:00,,film.mp4,120.0,30,Baby,guiding.scaffolding,Guiding,,STOP,34.5
"""

BORIS_OLD_TSV = (
    "Observation id\tobs1\nObservation date\t2026-01-12\n\n"
    "Time\tMedia file path\tTotal length\tFPS\tSubject\tBehavior\tComment\tStatus\n"
    "5.0\tfilm.mp4\t60\t30\tMother\tWaiting\t\tSTART\n"
    "7.5\tfilm.mp4\t60\t30\tMother\tWaiting\t\tSTOP\n"
)


def test_boris_tabular_events_import():
    moments = from_boris_text(BORIS_CSV, Fraction(30), default_codebook(), "sue")
    assert [(m.start, m.end, m.codes, m.note) for m in moments] == [
        (Fraction(25, 2), Fraction(76, 5), ("encouraging.waiting",), "lovely pause"),
        (Fraction(13), None, ("receiving.words",), ""),
        (Fraction(30), Fraction(69, 2), ("guiding.scaffolding",), ""),
    ]
    assert {m.coder for m in moments} == {"sue"}
    model = Annotations("m-1", Fraction(30), Fraction(120), default_codebook())
    assert len(import_text(BORIS_CSV, "boris.csv", model, "sue")) == 3
    old = import_text(BORIS_OLD_TSV, "boris.tsv", model, "sue")
    assert [(m.start, m.end) for m in old] == [(Fraction(5), Fraction(15, 2))]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BORIS_CSV.replace("Waiting", "Juggling"), "not in the codebook: Juggling"),
        (BORIS_CSV.replace("STOP,15.2", "START,15.2"), "starts again"),
        ("\n".join(BORIS_CSV.splitlines()[:2]), "never stops"),
        (BORIS_CSV.replace("START,12.5", "STOP,12.5"), "without having started"),
        ("a,b\n1,2\n", "not a BORIS"),
    ],
)
def test_boris_errors_are_clear(text, message):
    with pytest.raises(InterchangeError, match=message):
        from_boris_text(text, Fraction(30), default_codebook(), "sue")


def test_vtt_escapes_markup_and_arrows():
    model = Annotations("m-1", FPS, Fraction(60), None)
    from annotations import Editor

    editor = Editor(model, "bob")
    editor.add_moment(Fraction(1), Fraction(3), caption="a --> b <i>x</i> & y")
    text = to_vtt_text(model)
    assert "-->" not in text.split("\n", 4)[4]
    assert from_vtt_text(text, model)[0].caption == "a --> b <i>x</i> & y"


ELAN_MADE = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2026-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0">
  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>
  <TIME_ORDER>
    <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1000"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="2000"/>
    <TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="1000"/><TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="2000"/>
    <TIME_SLOT TIME_SLOT_ID="ts5" TIME_VALUE="5000"/><TIME_SLOT TIME_SLOT_ID="ts6" TIME_VALUE="6000"/>
  </TIME_ORDER>
  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="Guiding">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2"><ANNOTATION_VALUE>guiding</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6"><ANNOTATION_VALUE>guiding.choices</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="Caption (for the parent)">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a3" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4"><ANNOTATION_VALUE>You showed her how</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>
</ANNOTATION_DOCUMENT>
"""


def test_eaf_made_in_elan_groups_tiers_by_span():
    model = Annotations("m-1", Fraction(25), Fraction(60), default_codebook())
    moments = import_text(ELAN_MADE, "from-elan.eaf", model, "sue")
    assert [(m.start, m.end, m.codes, m.caption) for m in moments] == [
        (1, 2, ("guiding",), "You showed her how"),
        (5, 6, ("guiding.choices",), ""),
    ]
