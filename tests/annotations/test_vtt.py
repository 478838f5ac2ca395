"""WebVTT: the web-platform-tests file-parsing files against their published expectations,
the spec's rules the issue named, plain captions, and our exporter read back unchanged."""

import ast
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations import Annotations, InterchangeError
from annotations.interchange import from_vtt_text, to_vtt_text
from annotations.interchange.formats import vtt_entries
from annotations.interchange.vtt import escape_caption, parse_vtt, plain_text
from annotations.model import Moment

WPT = Path(__file__).parents[1] / "data" / "interop" / "wpt-webvtt"
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0rntfv\\]|\n)")
_SIMPLE = {"0": "\0", "r": "\r", "n": "\n", "t": "\t", "f": "\f", "v": "\v", "\\": "\\", "\n": ""}


def wpt_vtt(source: str) -> str:
    """The .vtt part of a WPT .test file, its escapes decoded (\\0 is NUL, never octal)."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xu":
            return chr(int(code[1:], 16))
        return _SIMPLE[code]

    return _ESCAPE.sub(one, source.split("===\n", 1)[1])


def wpt_expectations(source: str) -> tuple[int | None, list[tuple[int, str, object]]]:
    """cues.length and the id/text/startTime/endTime asserts (written as cues[i].field, or
    as cue.field after 'var cue = cues[i]'). Asserts on cue settings, regions and style
    sheets are not checked: videofeedback ignores those, as the issue asks."""
    asserts = source.split("===\n", 1)[0]
    found = re.search(r"assert_equals\(cues\.length, (\d+)", asserts)
    literal = r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[\d.]+)"
    checks = []
    current = None
    for line in asserts.splitlines():
        chosen = re.match(r"var cue = cues\[(\d+)\];", line)
        if chosen:
            current = int(chosen.group(1))
        indexed = re.match(
            rf"assert_equals\(cues\[(\d+)\]\.(id|text|startTime|endTime), {literal}\)", line
        )
        plain = re.match(rf"assert_equals\(cue\.(id|text|startTime|endTime), {literal}\)", line)
        if indexed:
            index, field, value = indexed.groups()
            checks.append((int(index), field, ast.literal_eval(value)))
        elif plain and current is not None:
            checks.append((current, plain.group(1), ast.literal_eval(plain.group(2))))
    return (int(found.group(1)) if found else None), checks


# Expectations written in loops (forEach) in the .test files, spelled out here.
LOOPED = {
    "timings-negative.test": [(0, 0), (1, 0.999), (60, 59.999), (3600, 3599.999)],
    "timings-omitted-hours.test": [(0, 1)] * 3,
    "settings-align.test": [(0, 1)] * 13,
    "settings-size.test": [(0, 1)] * 7,
    "settings-vertical.test": [(0, 1)] * 4,
}


def wpt_files():
    return sorted(p.name for p in WPT.glob("*.test"))


def test_the_wpt_files_are_there():
    assert len(wpt_files()) == 24  # every source file of the suite


@pytest.mark.parametrize("name", wpt_files())
def test_wpt_file_parsing(name):
    """Every cue count, id, text and time the WPT file states (2 style-sheet files state
    none about cues: they must parse, and their cues are checked in test_wpt_style_blocks)."""
    source = (WPT / name).read_text(encoding="utf-8")
    count, checks = wpt_expectations(source)
    cues = parse_vtt(wpt_vtt(source)).cues
    assert count is None or len(cues) == count
    fields = {"id": "id", "text": "text"}
    for index, field, expected in checks:
        cue = cues[index]
        if field in fields:
            assert getattr(cue, field) == expected, (index, field)
        else:
            value = cue.start if field == "startTime" else cue.end
            assert value == Fraction(str(expected)), (index, field)
    for index, (start, end) in enumerate(LOOPED.get(name, [])):
        assert (cues[index].start, cues[index].end) == (Fraction(str(start)), Fraction(str(end)))
        assert cues[index].text == f"text{index + 1}"


def test_wpt_style_blocks_are_not_cues():
    source = (WPT / "stylesheets-newlines.test").read_text(encoding="utf-8")
    cues = parse_vtt(wpt_vtt(source)).cues
    assert [(c.id, c.text) for c in cues] == [("foo", "text"), ("bar", "text")]


# --- the spec's rules the issue named ---------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp", ["00:00:00.0", "0:00.000", "00:00.00", "00:60.000", "00:00:00,000", "1:2:3.000"]
)
def test_timestamps_the_spec_rejects_skip_their_cue_only(timestamp):
    text = f"WEBVTT\n\n{timestamp} --> 00:00:05.000\nbad\n\n00:00:01.000 --> 00:00:02.000\ngood\n"
    parsed = parse_vtt(text)
    assert [c.text for c in parsed.cues] == ["good"]
    assert parsed.skipped == 1


def test_leading_whitespace_and_arrow_in_an_id_lose_no_cue():
    """A whitespace line is a cue id; an id with "-->" is a bad timing line, skipped alone,
    and the real timing line after it starts the cue (the spec's 'previous position')."""
    text = (
        "WEBVTT\n\n  \n00:00:01.000 --> 00:00:02.000\nafter a whitespace line\n\n"
        "an --> id\n00:00:03.000 --> 00:00:04.000\nkept too\n\n"
        "00:00:05.000 --> 00:00:06.000\nkept\n"
    )
    parsed = parse_vtt(text)
    assert [(c.id, c.text) for c in parsed.cues] == [
        ("  ", "after a whitespace line"),
        ("", "kept too"),
        ("", "kept"),
    ]
    assert parsed.skipped == 1


def test_the_signature_is_required():
    for bad in ("", "WEBVT", "WEBVTTX\n", "\n\nWEBVTT\n"):
        with pytest.raises(InterchangeError, match="WEBVTT"):
            parse_vtt(bad)
    assert parse_vtt("\ufeffWEBVTT - a title\n").cues == ()


def test_styles_regions_notes_are_ignored():
    text = (
        "WEBVTT\n\nSTYLE\n::cue { color: red }\n\nREGION\nid:fred\n\nNOTE a comment\n\n"
        "00:00:01.000 --> 00:00:02.000 region:fred align:start\nhello\n"
    )
    assert [(c.text, c.settings.strip()) for c in parse_vtt(text).cues] == [
        ("hello", "region:fred align:start")
    ]


@pytest.mark.parametrize(
    ("cue_text", "caption", "speakers"),
    [
        ("<b>bold</b> and <i>it</i> <u>u</u>", "bold and it u", ()),
        ("<v Mother>Look at you!</v>", "Look at you!", ("Mother",)),
        ("<v.loud Dad Smith>Hey</v>\n<v Baby>ba</v>", "Hey\nba", ("Dad Smith", "Baby")),
        ("<c.yellow.bg>class</c> <lang en>x</lang>", "class x", ()),
        ("one <00:00:01.500>two", "one two", ()),
        ("<ruby>漢<rt>kan</rt>字<rt>ji</rt></ruby>", "漢字", ()),
        ("&lt;3 &amp; &gt; &nbsp;&lrm;", "<3 & > \u00a0\u200e", ()),
        ("unclosed <b", "unclosed ", ()),
        ("older\n\u00a0\nexport", "older\n\nexport", ()),  # how we once wrote blank lines
    ],
)
def test_markup_is_stripped_into_plain_captions(cue_text, caption, speakers):
    plain = plain_text(cue_text)
    assert (plain.caption, plain.speakers) == (caption, speakers)


def test_voices_become_speakers_and_repeated_ids_do_not_refuse():
    text = (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Mum>hi <b>there</b></v>\n\n"
        "1\n00:00:03.000 --> 00:00:04.000\nagain\n"
    )
    found = vtt_entries(text)
    assert [e.caption for e in found.entries] == ["hi there", "again"]
    assert [(lab.scheme, lab.value, lab.primary) for lab in found.entries[0].labels] == [
        ("Speaker", "Mum", False)
    ]


# --- our exporter: any spec parser reads the captions back unchanged ---------------------------

captions = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\0"),
        st.sampled_from("\n\u00a0<>&-"),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(caption=captions)
def test_escaped_captions_read_back_unchanged(caption):
    text = f"WEBVTT\n\nmo-1\n00:00:01.000 --> 00:00:02.000\n{escape_caption(caption)}\n"
    cues = parse_vtt(text).cues
    assert len(cues) == 1
    assert plain_text(cues[0].text).caption == caption


def test_blank_lines_and_arrows_in_a_caption_round_trip():
    model = Annotations("m", Fraction(25), Fraction(60))
    captions = ["first\n\nsecond", "a --> b", "", "\n", "<b>&amp;</b>", "\u00a0", "x\n\u00a0"]
    for number, caption in enumerate(captions):
        model.moments.append(
            Moment(f"mo-{number}", Fraction(number), Fraction(number) + 1, (), caption)
        )
    back = from_vtt_text(to_vtt_text(model), Annotations("m", Fraction(25), Fraction(60)))
    assert [(m.id, m.caption) for m in back] == [(m.id, m.caption) for m in model.moments]


def test_subrip_files_from_players():
    from annotations.interchange import read_file

    srt = (
        '1\r\n00:00:01,500 --> 00:00:03,000\r\n<i>Look</i> at <font color="#ff0000">you</font>\r\n\r\n'
        "2\r\n00:00:04,000 --> 00:00:05,250\r\n{\\an8}Top line\r\nsecond &amp; last\r\n\r\n"
        "3\r\n00:00:07,000 -> 00:00:08,000\r\nbroken\r\n\r\n"
        "4\r\n01:00:00,000 --> 01:00:01,000\r\nlate\r\n"
    )
    found = read_file(srt, "player.srt", Annotations("m", Fraction(25), Fraction(4000)))
    assert [(e.start, e.end, e.caption) for e in found.entries] == [
        (Fraction(3, 2), Fraction(3), "Look at you"),
        (Fraction(4), Fraction(21, 4), "Top line\nsecond & last"),
        (Fraction(3600), Fraction(3601), "late"),
    ]
