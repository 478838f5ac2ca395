"""Files ELAN, BORIS and pympi wrote (tests/data/interop, see its MANIFEST.md) come in: the
right number of moments, times within half a frame, tiers, labels, subjects and modifiers
kept; mapping, offsets, clipping and encodings; our EAF validates against ELAN's schema."""

import codecs
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pympi
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings

from annotations import Annotations, InterchangeError, default_codebook
from annotations.interchange import (
    ImportOptions,
    decode_text,
    import_text,
    parse_label_map,
    plan_import,
    read_file,
    to_eaf_text,
)
from annotations.interchange.elan_read import _tier, _times
from annotations.model import Moment
from tests.annotations.strategies import annotation_sets

DATA = Path(__file__).parents[1] / "data" / "interop"
FPS = Fraction(25)
HALF_FRAME = 1 / (2 * FPS)
EAF_FILES = ["elan/pympi-sample_3.0-excerpt.eaf", "elan/pympi-sample_2.7-excerpt.eaf"]


def recording(duration=600, codebook=None):
    return Annotations("m-1", FPS, Fraction(duration), codebook or default_codebook())


def text_of(name):
    return decode_text((DATA / name).read_bytes(), name)


def keep(coder="sue", **changes):
    return replace(ImportOptions(coder, keep_labels=True), **changes)


# --- ELAN ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EAF_FILES)
def test_elan_files_come_in_one_moment_per_top_level_annotation(name):
    eaf = pympi.Elan.Eaf(str(DATA / name))
    top = [t for t in eaf.get_tier_names() if "PARENT_REF" not in eaf.tiers[t][2]]
    expected = sorted(
        (Fraction(s, 1000), Fraction(e, 1000), t)
        for t in top
        for s, e, _v in eaf.get_annotation_data_for_tier(t)
    )
    moments = import_text(text_of(name), name, recording(), "sue", keep())
    got = sorted((m.start, m.end, m.note.split("\n")[0]) for m in moments)
    assert len(got) == len(expected) == 12
    for (start, end, first_note), (s, e, tier) in zip(got, expected, strict=True):
        assert abs(start - s) <= HALF_FRAME and abs(end - e) <= HALF_FRAME
        assert first_note == f"tier: {tier}"


def test_elan_dependent_tiers_attach_to_their_parent():
    name = EAF_FILES[0]
    moments = import_text(text_of(name), name, recording(), "sue", keep())
    sentence = next(m for m in moments if m.caption == "The quick brown fox 001")
    assert sentence.note.split("\n") == [
        "tier: text",
        "POS: adj",
        "POS: adj",
        "POS: n",
        "words-timesub: The quick brown fox 001",
        "words-symsub: The quick brown fox 001",
        "gest_included: hold hold stroke",
    ]
    gestures = [m for m in moments if m.note.startswith("tier: gestures")]
    assert [m.note.split("\n")[1] for m in gestures][:3] == [
        "Gesture: prep",
        "Gesture: hold",
        "Gesture: stroke",
    ]


def test_elan_reports_per_tier_what_it_cannot_keep_before_storing():
    name = EAF_FILES[0]
    model = recording()
    plan = plan_import(read_file(text_of(name), name, model), model, ImportOptions("sue"))
    report = plan.report("refuse")
    assert any(line.startswith("tier words-timesub: the times of 15") for line in report["lost"])
    assert any(line.startswith("tier gest_included: the times of 9") for line in report["lost"])
    assert any("vocabulary POS: values in other languages (nld)" in x for x in report["lost"])
    assert report["unmapped"] == {
        "Gesture: hold": 4,
        "Gesture: prep": 2,
        "Gesture: retr": 1,
        "Gesture: stroke": 2,
        "POS: adj": 2,
        "POS: n": 1,
    }
    assert "--new-codebook" in report["problems"][0]
    assert model.moments == []


def test_elan_vocabularies_come_in_as_a_codebook():
    name = EAF_FILES[0]
    model = recording()
    options = ImportOptions("sue", new_codebook="Gesture study")
    plan = plan_import(read_file(text_of(name), name, model), model, options)
    book = plan.new_codebook
    assert book is not None and book.id == "gesture-study"
    gesture = next(c for c in book.categories if c.label == "Gesture")
    assert [c.label for c in gesture.codes] == ["prep", "hold", "stroke", "retr"]
    assert plan.problems("refuse") == []
    first = plan.moments[0]
    assert first.codes == ("tier.gestures", "gesture.prep")
    model.codebook = book
    for moment in plan.moments:
        model.check(moment)


def test_unaligned_time_slots_are_spread_as_elan_shows_them():
    """The third sentence (8.0-11.0 s) is time-subdivided into five words whose inner slots
    have no time: ELAN shows them evenly spread, 0.6 s each."""
    root = ET.fromstring(text_of(EAF_FILES[0]).split("?>", 1)[1])
    tiers = [_tier(t) for t in root.iter("TIER")]
    times = _times(root, tiers, None)
    words = next(t for t in tiers if t.id == "words-timesub").annotations
    third = [a for a in words if times[a.slots[0]] >= 8 and times[a.slots[1]] <= 11]
    assert [(times[a.slots[0]], a.value) for a in third] == [
        (Fraction(8), "The"),
        (Fraction(43, 5), "quick"),
        (Fraction(46, 5), "brown"),
        (Fraction(49, 5), "fox"),
        (Fraction(52, 5), "003"),
    ]
    assert times[third[-1].slots[1]] == 11


def test_an_eaf_label_map_sets_tier_roles_and_codes(tmp_path):
    name = EAF_FILES[0]
    mapping = parse_label_map(
        "tier,label,code\n"
        "gestures,*,@skip\n"
        "words-symsub,*,@translation:en\n"
        "POS,adj,encouraging.waiting\n"
        "POS,n,@note\n",
        "map.csv",
    )
    model = recording()
    options = ImportOptions("sue", label_map=mapping)
    plan = plan_import(read_file(text_of(name), name, model, mapping), model, options)
    assert plan.problems("refuse") == []
    assert len(plan.moments) == 3  # the gestures tier left out, as the map says
    first = plan.moments[0]
    assert first.codes == ("encouraging.waiting",)
    assert dict(first.translations) == {"en": "The quick brown fox 001"}
    assert any("gestures: 9 annotations left out" in loss for loss in plan.losses)


# --- BORIS --------------------------------------------------------------------------------

SPANS_OBS1 = [
    (Fraction("3.3"), Fraction("7.75"), "subject1"),
    (Fraction("9.9"), Fraction("16.2"), "subject1"),
    (Fraction("18.35"), Fraction("24.475"), "subject1"),
    (Fraction("38.425"), Fraction("46.1"), "subject2"),
]


def spans(moments):
    return [(m.start, m.end, m.note.split("Subject: ")[-1].split("\n")[0]) for m in moments]


def near(got, expected):
    return len(got) == len(expected) and all(
        abs(a[0] - b[0]) <= HALF_FRAME
        and (a[1] is None) == (b[1] is None)
        and (a[1] is None or abs(a[1] - b[1]) <= HALF_FRAME)
        and a[2] == b[2]
        for a, b in zip(got, expected, strict=True)
    )


@pytest.mark.parametrize(
    "name", ["boris/test_export_events_tabular.tsv", "boris/test_export_events_tabular.csv"]
)
def test_boris_tabular_exports_come_in(name):
    moments = import_text(text_of(name), name, recording(), "sue", keep())
    assert near(spans(moments), SPANS_OBS1)
    assert moments[0].note == "Behavior: s\nSubject: subject1"


def test_boris_project_observation_matches_its_own_export():
    name = "boris/test-excerpt.boris"
    model = recording()
    found = read_file(text_of(name), name, model, observation="observation #1")
    moments = plan_import(found, model, keep()).moments
    assert near(spans(moments), SPANS_OBS1)
    assert found.details["variable b"] == "text value for b"
    report = plan_import(found, model, keep()).report("refuse")
    assert report["details"]["observation"] == "observation #1"


def test_boris_project_needs_an_observation_named_when_it_has_several():
    name = "boris/test-excerpt.boris"
    with pytest.raises(InterchangeError, match="--observation NAME"):
        read_file(text_of(name), name, recording())


def test_boris_project_points_states_and_modifiers():
    name = "boris/test-excerpt.boris"
    model = recording()
    found = read_file(text_of(name), name, model, observation="modifiers")
    moments = plan_import(found, model, keep()).moments
    assert [(float(m.start), m.end and float(m.end), m.note) for m in moments] == [
        (8.48, None, "Behavior: q\nModifier: m1"),
        (12.36, None, "Behavior: q\nModifier: m2"),
        (15.64, None, "Behavior: q\nModifier: m3"),
        (19.16, 27.96, "Behavior: r\nModifier: m1"),
        (30.44, 40.84, "Behavior: r"),
    ]
    live = read_file(text_of(name), name, model, observation="live")
    assert len(live.entries) == 9
    assert sum(e.end is None for e in live.entries) == 6


def test_boris_aggregated_export_comes_in():
    name = "boris/test_export_aggregated_events_test_full_1.tsv"
    moments = import_text(text_of(name), name, recording(), "sue", keep())
    assert len(moments) == 18
    assert sum(m.end is None for m in moments) == 8
    assert (moments[0].start, moments[0].end) == (Fraction("1.8"), Fraction("8.12"))
    assert "Subject: subject2" in moments[-1].note


def test_boris_8_tabular_layout_with_modifiers():
    """The columns boris-behav-obs 8.27.4 writes (export_observation.py)."""
    header = (
        "Observation id\tObservation date\tDescription\tObservation duration\tObservation type\t"
        "Source\tTime offset (s)\tMedia duration (s)\tFPS\tSubject\tBehavior\t"
        "Behavioral category\tModifier #1\tModifier #2\tBehavior type\tTime\tMedia file name\t"
        "Image index\tImage file path\tComment"
    )
    row = "obs\t2024-01-01\t\t60\tMedia file(s)\tplayer #1:a.mp4\t0.0\t60\t25\t{}\t{}\tcat\t{}\t{}\t{}\t{}\ta.mp4\tNA\tNA\t{}"
    text = "\n".join(
        [
            header,
            row.format("Mum", "Waiting", "calm", "", "START", "1.000", "first"),
            row.format("Mum", "Waiting", "calm", "", "STOP", "4.520", ""),
            row.format(
                "No focal subject", "Receiving with words", "", "loud", "POINT", "5.000", ""
            ),
        ]
    )
    moments = import_text(text, "events.tsv", recording(), "sue")
    assert [(m.start, m.end, m.codes, m.note) for m in moments] == [
        (1, Fraction(113, 25), ("encouraging.waiting",), "Subject: Mum\nModifier: calm\nfirst"),
        (5, None, ("receiving.words",), "Modifier: loud"),
    ]


def test_boris_ethogram_as_a_new_codebook_keeps_subjects_and_modifiers_as_codes():
    name = "boris/test-excerpt.boris"
    model = recording()
    found = read_file(text_of(name), name, model, observation="modifiers")
    plan = plan_import(found, model, ImportOptions("sue", new_codebook="BORIS test"))
    book = plan.new_codebook
    assert [c.label for c in book.categories] == ["Behavior", "Modifier", "Subject"]
    assert [c.label for c in book.categories[0].codes] == ["p", "s", "q", "r", "m"]
    assert plan.moments[0].codes == ("behavior.q", "modifier.m1")


def test_a_map_file_maps_behaviours_and_subjects():
    name = "boris/test_export_events_tabular.tsv"
    mapping = parse_label_map(
        "tier,label,code\n,s,encouraging.waiting\nSubject,subject1,guiding.scaffolding\n", "m.csv"
    )
    moments = import_text(
        text_of(name), name, recording(), "sue", ImportOptions("sue", label_map=mapping)
    )
    assert moments[0].codes == ("encouraging.waiting", "guiding.scaffolding")
    assert moments[-1].codes == ("encouraging.waiting",)
    assert moments[-1].note == "Subject: subject2"
    bad = parse_label_map("label,code\ns,no.such.code\n", "m.csv")
    with pytest.raises(InterchangeError, match="no.such.code"):
        import_text(text_of(name), name, recording(), "sue", ImportOptions("sue", label_map=bad))


# --- partial imports ------------------------------------------------------------------------


def test_moments_outside_the_recording_refuse_by_default_naming_the_options():
    name = "boris/test_export_aggregated_events_test_full_1.tsv"
    short = recording(duration=300)
    with pytest.raises(InterchangeError, match="--offset SECONDS.*--clip.*--skip"):
        import_text(text_of(name), name, short, "sue", keep())
    skipped = import_text(text_of(name), name, short, "sue", keep(outside="skip"))
    assert len(skipped) == 12 and all((m.end or m.start) <= 300 for m in skipped)
    clipped = import_text(text_of(name), name, short, "sue", keep(outside="clip"))
    assert len(clipped) == 12  # nothing after 300 s overlaps it
    shifted = import_text(
        text_of(name), name, short, "sue", keep(offset=Fraction(-30), outside="clip")
    )
    # 1.8-8.125 and 10.25-23.35 fall before the start; 26.775-31.475 is cut to 0-1.475
    assert (shifted[0].start, shifted[0].end) == (0, Fraction(37, 25))


def test_clip_keeps_the_part_inside():
    model = recording(duration=10)
    text = "WEBVTT\n\n00:00:08.000 --> 00:00:12.000\nacross the end\n\n00:00:11.000 --> 00:00:12.000\nafter\n"
    plan = plan_import(read_file(text, "x.vtt", model), model, ImportOptions("sue", outside="clip"))
    assert [(m.start, m.end, m.caption) for m in plan.moments] == [(8, 10, "across the end")]
    assert (plan.clipped, plan.skipped_outside) == (1, 1)


# --- encodings ------------------------------------------------------------------------------


def test_boms_choose_the_encoding():
    text = "id,start,end,codes,caption\nmo-1,1,2,,Zażółć «ok»\n"
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        assert decode_text(bom + text.encode(codec), "x.csv") == text


def test_a_windows_1252_file_needs_its_encoding_named():
    data = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\u201ccaf\u00e9\u201d\n".encode("cp1252")
    with pytest.raises(InterchangeError, match="--encoding"):
        decode_text(data, "x.vtt")
    assert "\u201ccaf\u00e9\u201d" in decode_text(data, "x.vtt", "cp1252")
    with pytest.raises(InterchangeError, match="unknown encoding"):
        decode_text(data, "x.vtt", "klingon")
    utf16 = "a,b\n".encode("utf-16-le")
    with pytest.raises(InterchangeError, match="UTF-16 without a byte-order mark"):
        decode_text(utf16 + b"\xff\xdb", "x.csv")


# --- EAF export: ELAN's schema ---------------------------------------------------------------

SCHEMA = xmlschema.XMLSchema(str(DATA / "elan" / "EAFv3.0.xsd"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=annotation_sets())
def test_our_eaf_validates_against_elans_schema(model):
    for index, moment in enumerate(list(model.moments)):  # two coders, overlapping moments
        if index % 2:
            model.moments[index] = replace(moment, coder="sue", translations=(("pl", "Tak"),))
    text = to_eaf_text(model)
    SCHEMA.validate(text)


def test_the_schema_test_can_fail():
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(
            to_eaf_text(recording())
            .replace("<TIME_ORDER", "<TIME_ORDRE", 1)
            .replace("</TIME_ORDER", "</TIME_ORDRE", 1)
        )


def test_overlapping_moments_of_one_coder_get_lanes():
    model = recording()
    model.moments = [
        Moment("mo-a", Fraction(1), Fraction(5), ("encouraging.waiting",), "one", coder="bob"),
        Moment("mo-b", Fraction(2), Fraction(3), ("encouraging.waiting",), "two", coder="bob"),
        Moment("mo-c", Fraction(2), None, (), "", coder="sue"),
    ]
    root = ET.fromstring(to_eaf_text(model).split("?>", 1)[1])
    names = [t.get("TIER_ID") for t in root.iter("TIER") if not t.get("PARENT_REF")]
    assert names == ["bob moments", "bob moments 2", "sue moments"]
    back = plan_import(read_file(to_eaf_text(model), "x.eaf", model), model, ImportOptions("x"))
    assert sorted((m.id, m.start, m.end, m.codes, m.caption) for m in back.moments) == sorted(
        (m.id, m.start, m.end, m.codes, m.caption) for m in model.moments
    )


# --- the attacker: a crafted file from elsewhere ---------------------------------------------


def test_entity_expansion_and_external_entities_are_refused():
    """An .eaf from another service is untrusted XML: no billion laughs, no file reads."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i + 1} "{f"&l{i};" * 10}">' for i in range(9)
    )
    body = (
        '<ANNOTATION_DOCUMENT><TIER TIER_ID="x"><ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a" '
        'ANNOTATION_REF="b"><ANNOTATION_VALUE>{}</ANNOTATION_VALUE></REF_ANNOTATION>'
        "</ANNOTATION></TIER></ANNOTATION_DOCUMENT>"
    )
    laughs = f"<?xml version='1.0'?><!DOCTYPE d [{entities}]>" + body.format("&l9;")
    with pytest.raises(InterchangeError, match="not an ELAN file"):
        read_file(laughs, "x.eaf", recording())
    secret = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
    with pytest.raises(InterchangeError, match="not an ELAN file"):
        read_file(secret + body.format("&x;"), "x.eaf", recording())


def test_eaf_round_trip_keeps_translations_and_notes_when_asked():
    model = recording()
    model.moments = [
        Moment(
            "mo-a",
            Fraction(1),
            Fraction(5),
            ("encouraging.waiting", "nope"),
            "You waited",
            "private",
            "bob",
            translations=(("pl", "Poczekałaś"), ("ur", "آپ نے انتظار کیا")),
        )
    ]
    text = to_eaf_text(model, include_notes=True)
    SCHEMA.validate(text)
    back = plan_import(read_file(text, "x.eaf", model), model, keep("bob")).moments[0]
    assert (back.codes, back.caption, back.translations) == (
        ("encouraging.waiting",),
        "You waited",
        model.moments[0].translations,
    )
    assert back.note == "code: nope\nprivate"  # an unknown code is kept, as text


def test_eaf_exports_of_earlier_versions_still_come_in():
    """Before per-coder tiers, a moment was an annotation on 'videofeedback moment' with
    its codes, caption and note on other top-level tiers over the same time slots."""
    old = (DATA.parent / "earlier-export.eaf").read_text(encoding="utf-8")
    model = recording()
    back = plan_import(read_file(old, "x.eaf", model), model, ImportOptions("bob")).moments
    assert [(m.id, m.start, m.end, m.codes, m.caption) for m in back] == [
        ("mo-1", Fraction(10), Fraction(412, 25), ("encouraging.waiting",), "You waited"),
        ("mo-2", Fraction(40), None, ("receiving", "attuned.turns"), ""),
    ]


def test_compressed_boris_projects_unpack_within_a_limit():
    import gzip

    from annotations.interchange import unwrap_gzip

    raw = (DATA / "boris" / "test-excerpt.boris").read_bytes()
    assert unwrap_gzip(gzip.compress(raw), "p.boris.gz") == (raw, "p.boris")
    assert unwrap_gzip(raw, "p.boris") == (raw, "p.boris")
    with pytest.raises(InterchangeError, match="more than"):
        unwrap_gzip(gzip.compress(b"0" * 5_000_000), "bomb.boris.gz", limit=1_000_000)
    with pytest.raises(InterchangeError, match="damaged"):
        unwrap_gzip(gzip.compress(raw)[:-40] + b"x" * 40, "p.boris.gz")


def test_one_bad_or_early_event_does_not_refuse_a_boris_file():
    """A negative time (a time offset can make one) is outside the recording: --skip or
    --clip decide; a project event without a time is a reported loss."""
    text = (
        (DATA / "boris" / "test_export_events_tabular.tsv")
        .read_text()
        .replace("3.300\t", "-3.300\t")
    )
    model = recording()
    with pytest.raises(InterchangeError, match="--clip"):
        import_text(text, "e.tsv", model, "sue", keep())
    clipped = import_text(text, "e.tsv", model, "sue", keep(outside="clip"))
    assert (clipped[0].start, clipped[0].end) == (0, Fraction("7.76"))
    project = (DATA / "boris" / "test-excerpt.boris").read_text().replace("22.425", '"NA"', 1)
    found = read_file(project, "p.boris", model, observation="offset positif")
    assert len(found.entries) == 1
    assert "1 events without a time" in found.losses[0]


def test_elan_media_time_origin_shifts_into_the_recording():
    """A media file linked with an offset in ELAN (TIME_ORIGIN): document time 0 is 2.5 s
    into the video, so an annotation at 1 s is at 3.5 s of the recording."""
    text = text_of(EAF_FILES[0]).replace(
        'MEDIA_DESCRIPTOR MEDIA_URL="file:///Users/Shared/MPI/DemoMaterial/yele/r03_v20_s5.wav" '
        'MIME_TYPE="audio/x-wav"',
        'MEDIA_DESCRIPTOR MEDIA_URL="file:///film.mp4" MIME_TYPE="video/mp4" TIME_ORIGIN="2500"',
    )
    found = read_file(text, "x.eaf", recording())
    assert found.entries[0].start == Fraction(18, 10) + Fraction(5, 2)
    assert found.details["media time origin (s)"] == "2.5"


def _as_xlsx(tsv_name: str) -> bytes:
    """The table of a real BORIS TSV export written to XLSX as BORIS writes it (openpyxl:
    numbers as numbers, text as text), so the XLSX path is checked against the TSV one."""
    import csv
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(text_of(tsv_name)), delimiter="\t"):
        cells = []
        for cell in row:
            try:
                cells.append(float(cell) if cell.strip() else None)
            except ValueError:
                cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "name",
    ["boris/test_export_events_tabular.tsv", "boris/test_export_aggregated_events_test_full_1.tsv"],
)
def test_boris_xlsx_exports_read_as_their_tsv(name):
    from annotations.interchange import decode_text, is_spreadsheet, spreadsheet_as_tsv

    xlsx_name = name.replace(".tsv", ".xlsx")
    assert is_spreadsheet(xlsx_name)
    data, inner = spreadsheet_as_tsv(_as_xlsx(name), xlsx_name)
    assert inner.endswith(".tsv")
    from_xlsx = import_text(decode_text(data, inner), inner, recording(), "sue", keep())
    from_tsv = import_text(text_of(name), name, recording(), "sue", keep())
    assert [(m.start, m.end, m.note) for m in from_xlsx] == [
        (m.start, m.end, m.note) for m in from_tsv
    ]
    assert len(from_xlsx) >= 4


def test_a_damaged_xlsx_is_one_clear_error():
    from annotations.interchange import spreadsheet_as_tsv

    with pytest.raises(InterchangeError, match="not a readable XLSX"):
        spreadsheet_as_tsv(b"PK\x03\x04 not really a workbook", "events.xlsx")
