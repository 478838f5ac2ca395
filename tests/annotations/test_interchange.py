"""Every interchange format round-trips (hypothesis); the .eaf also reads in pympi-ling."""

from fractions import Fraction

import pympi
import pytest
from hypothesis import HealthCheck, given, settings

from annotations import Annotations, InterchangeError, default_codebook
from annotations.interchange import (
    ImportOptions,
    from_csv_text,
    from_json_text,
    from_vtt_text,
    import_text,
    plan_import,
    read_file,
    to_csv_text,
    to_eaf_text,
    to_json_text,
    to_vtt_text,
)
from annotations.interchange.boris import parse_boris_export
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


def eaf_back(model):
    found = read_file(to_eaf_text(model), "x.eaf", empty_like(model))
    return plan_import(found, empty_like(model), ImportOptions("bob")).moments


@SETTINGS
@given(model=annotation_sets())
def test_eaf_round_trip(model):
    back = {m.id: m for m in eaf_back(model)}
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
def test_eaf_reads_in_pympi_with_no_overlap_on_a_tier(tmp_path_factory, model):
    """The file opens in pympi-ling: a moment tier per coder and lane, no two annotations on
    one tier overlap, every code on its category's tier, the coder named on each tier."""
    path = tmp_path_factory.mktemp("eaf") / "moments.eaf"
    path.write_text(to_eaf_text(model), encoding="utf-8")
    eaf = pympi.Elan.Eaf(str(path))
    tiers = set(eaf.get_tier_names())
    moment_tiers = sorted(t for t in tiers if t.startswith("bob moments"))
    if model.moments:
        assert "bob moments" in tiers
    rows = []
    for tier in moment_tiers:
        spans = sorted(eaf.get_annotation_data_for_tier(tier))
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), tier
        assert eaf.tiers[tier][2]["ANNOTATOR"] == "bob" == eaf.tiers[tier][2]["PARTICIPANT"]
        rows += spans
    expected = sorted(
        (round(m.start * 1000), round(m.end * 1000) if m.end else round(m.start * 1000) + 1, m.id)
        for m in model.moments
    )
    assert sorted(rows) == expected
    for m in model.moments:
        for code in m.codes:
            label = model.codebook.category_of(code).label
            values = [
                v
                for t in tiers
                if t.startswith(f"bob {label}")
                for _s, _e, v, _r in eaf.get_ref_annotation_data_for_tier(t)
            ]
            assert any(code in v.split("; ") for v in values)


def test_import_sets_the_coder_and_checks_codes():
    codebook = default_codebook()
    model = Annotations("m-1", FPS, Fraction(60), codebook)
    csv_text = "id,start,end,codes,caption\nmo-1,1.0,2.0,attentive,hello\n"
    moments = import_text(csv_text, "x.csv", model, "sue")
    assert moments[0].coder == "sue" and moments[0].codes == ("attentive",)
    with pytest.raises(InterchangeError, match="nope.*--map FILE"):
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


def test_boris_tabular_events_import():
    model = Annotations("m-1", Fraction(30), Fraction(120), default_codebook())
    moments = import_text(BORIS_CSV, "boris.csv", model, "sue")
    assert [(m.start, m.end, m.codes, m.note) for m in moments] == [
        (
            Fraction(25, 2),
            Fraction(76, 5),
            ("encouraging.waiting",),
            "Subject: Mother\nlovely pause",
        ),
        (Fraction(13), None, ("receiving.words",), "Subject: Mother"),
        (Fraction(30), Fraction(69, 2), ("guiding.scaffolding",), "Subject: Baby"),
    ]
    assert {m.coder for m in moments} == {"sue"}


def test_boris_unknown_behaviours_offer_the_ways_forward():
    model = Annotations("m-1", Fraction(30), Fraction(120), default_codebook())
    text = BORIS_CSV.replace("Waiting", "Juggling")
    with pytest.raises(
        InterchangeError, match="Juggling.*--map FILE.*--new-codebook.*--keep-labels"
    ):
        import_text(text, "boris.csv", model, "sue")
    kept = import_text(text, "boris.csv", model, "sue", ImportOptions("sue", keep_labels=True))
    assert "Encouraging: Juggling" in kept[0].note


def test_boris_unpaired_events_are_reported_not_refused():
    model = Annotations("m-1", Fraction(30), Fraction(120), default_codebook())
    found = read_file("\n".join(BORIS_CSV.splitlines()[:2]), "b.csv", model)
    assert found.entries == [] and "never stops" in found.losses[0]
    found = read_file(BORIS_CSV.replace("START,12.5", "STOP,12.5"), "b.csv", model)
    assert any("STOP events without a START" in loss for loss in found.losses)
    with pytest.raises(InterchangeError, match="not a BORIS"):
        parse_boris_export("Behavior,Subject,x\n1,2,3\n")
    with pytest.raises(InterchangeError, match="not a BORIS project"):
        read_file("[1, 2]", "b.boris", model)


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


def test_eaf_tiers_are_never_merged_and_their_names_kept():
    """Same span, two tiers: two moments. A tier whose values are all codes holds codes;
    another tier's values are captions; the tier name is kept (here in the note)."""
    model = Annotations("m-1", Fraction(25), Fraction(60), default_codebook())
    moments = import_text(ELAN_MADE, "from-elan.eaf", model, "sue")
    assert sorted((m.start, m.end, m.codes, m.caption, m.note) for m in moments) == [
        (1, 2, (), "You showed her how", "tier: Caption (for the parent)"),
        (1, 2, ("guiding",), "", "tier: Guiding"),
        (5, 6, ("guiding.choices",), "", "tier: Guiding"),
    ]
