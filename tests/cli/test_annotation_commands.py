"""moments / agreement / codebook through the console script, on a registered recording."""

import json
from datetime import date
from pathlib import Path

import pympi
import pytest

from encryption import write_encrypted
from tests.cli.conftest import assert_one_line_error, run_cli
from videofeedback.library import Library, Programme, Purpose, Role, SessionKind, create_case


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_library(tmp_path_factory)


def make_library(tmp_path_factory):
    """A library with bob (practitioner), sue (supervisor) and one 120 s recording at 30 fps."""
    folder = tmp_path_factory.mktemp("annot") / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    library.add_user(alice, "sue", Role.SUPERVISOR, "sue-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family K", Programme.VIG, date.today(), ["sue"])
    mother = case.participants.add("Kasia", "mother")
    case.consent.set(mother, Purpose.FILMING, True)
    session = case.sessions.new(SessionKind.RECORDING, date.today())
    (case.folder / "media").mkdir()
    write_encrypted(case.folder / "media" / "rec.age", b"not really video", case.recipients)
    media_id = case.media.add(
        session, "recording", "media/rec.age", {"fps": "30", "duration": "120"}
    )
    case.save()
    library.close()
    return folder, media_id, case.id


def vf(folder, user, *args):
    return run_cli(
        "--library", folder, "--user", user, *args, env={"VIDEOFEEDBACK_PASSPHRASE": f"{user}-quiet-harbour-lantern"}
    )


def ok(result):
    assert result.code == 0, result.err
    return json.loads(result.text) if result.text.startswith("{") else result.text


def test_moments_export_import_agreement(media, tmp_path):
    folder, media_id, case_id = media
    first = ok(
        vf(
            folder,
            "bob",
            "moments",
            "add",
            media_id,
            "--start",
            "10",
            "--end",
            "16.5",
            "--code",
            "encouraging.waiting",
            "--caption",
            "You waited, and she showed you the book",
            "--note",
            "private",
            "--json",
        )
    )
    assert first["start"] == "10" and first["end"] == "33/2" and first["coder"] == "bob"
    ok(
        vf(
            folder,
            "bob",
            "moments",
            "add",
            media_id,
            "--start",
            "40",
            "--end",
            "44",
            "--code",
            "receiving",
            "--code",
            "attuned.turns",
            "--json",
        )
    )
    ok(vf(folder, "bob", "moments", "add", media_id, "--start", "01:05", "--code", "guiding"))
    listed = ok(vf(folder, "bob", "moments", "list", media_id, "--json"))["moments"]
    assert [m["start_seconds"] for m in listed] == [10, 40, 65]

    for fmt in ("eaf", "csv", "vtt", "json"):
        out = tmp_path / f"moments.{fmt}"
        ok(vf(folder, "bob", "moments", "export", media_id, "--format", fmt, "--out", out))
        assert out.stat().st_size > 50
    eaf = pympi.Elan.Eaf(str(tmp_path / "moments.eaf"))
    coded = eaf.get_ref_annotation_data_for_tier("bob Encouraging initiatives")
    assert [row[:3] for row in coded] == [(10000, 16500, "encouraging.waiting")]
    assert "You waited" in (tmp_path / "moments.vtt").read_text()

    # sue codes the same recording herself (a CSV of her own), then agreement is computed
    (tmp_path / "sue.csv").write_text(
        "id,start,end,codes\nx1,9,16,encouraging.waiting\nx2,80,84,guiding\n"
    )
    imported = ok(
        vf(
            folder,
            "sue",
            "moments",
            "import",
            media_id,
            tmp_path / "sue.csv",
            "--coder",
            "sue",
            "--json",
        )
    )
    assert len(imported["imported"]) == 2
    assert_one_line_error(
        vf(folder, "sue", "moments", "import", media_id, tmp_path / "sue.csv", "--coder", "bob"),
        "only their own",
    )
    report = ok(
        vf(folder, "sue", "agreement", media_id, "--coder", "bob", "--coder", "sue", "--json")
    )
    assert report["units"] == 120 and -1 <= report["kappa"] < 1
    assert set(report["only_b"]) == set(imported["imported"]) - {imported["imported"][0]}
    assert len(report["only_a"]) == 2  # bob's 40 s and 65 s moments

    # bob imports his own ELAN export back (ids clash, so they are renumbered)
    again = ok(
        vf(
            folder,
            "bob",
            "moments",
            "import",
            media_id,
            tmp_path / "moments.eaf",
            "--coder",
            "bob",
            "--json",
        )
    )
    assert len(again["imported"]) == 3

    audit = ok(vf(folder, "bob", "audit", "verify", case_id, "--json"))
    assert audit["valid"]
    actions = {
        e["action"] for e in ok(vf(folder, "bob", "audit", "show", case_id, "--json"))["entries"]
    }
    assert {"moment.add", "annotations.export", "annotations.import", "agreement"} <= actions


def test_supervisor_cannot_change_bobs_moments_but_codes_her_own(media):
    folder, media_id, _ = media
    ok(
        vf(
            folder,
            "sue",
            "moments",
            "add",
            media_id,
            "--start",
            "100",
            "--end",
            "101",
            "--code",
            "guiding",
        )
    )
    assert_one_line_error(
        vf(folder, "sue", "moments", "add", media_id, "--start", "100", "--end", "99"),
        "end after it starts",
    )
    assert_one_line_error(
        vf(
            folder,
            "bob",
            "moments",
            "add",
            media_id,
            "--start",
            "1",
            "--end",
            "2",
            "--code",
            "nope",
        ),
        "unknown codes nope",
    )
    assert_one_line_error(vf(folder, "bob", "moments", "list", "m-0000000000"), "no media")


def test_codebooks(media, tmp_path):
    folder, _, _ = media
    books = ok(vf(folder, "bob", "codebook", "list", "--json"))["codebooks"]
    assert {b["id"] for b in books} >= {"vig", "piccolo", "pup"}
    vig = ok(vf(folder, "bob", "codebook", "show", "vig", "--json"))
    assert vig["categories"][0]["label"] == "Being attentive"
    (tmp_path / "mine.toml").write_text(
        'id = "mine"\nname = "Our service codes"\n[[categories]]\nid = "play"\nlabel = "Play"\n'
        'colour = "#336699"\n[[categories.codes]]\nid = "play.shared"\nlabel = "Shared play"\n'
    )
    ok(vf(folder, "bob", "codebook", "add", tmp_path / "mine.toml"))
    assert "mine" in {
        b["id"] for b in ok(vf(folder, "bob", "codebook", "list", "--json"))["codebooks"]
    }
    (tmp_path / "bad.json").write_text('{"id": "bad", "name": "x", "categories": []}')
    assert_one_line_error(
        vf(folder, "bob", "codebook", "add", tmp_path / "bad.json"), "non-empty list"
    )


# --- interop: imports from other tools (issue 19) ---------------------------------------------

DATA = Path(__file__).parents[1] / "data" / "interop"


@pytest.fixture
def fresh(tmp_path_factory):
    return make_library(tmp_path_factory)


def test_a_boris_xlsx_export_is_read_like_its_tsv(fresh, tmp_path):
    from tests.annotations.test_interop_files import _as_xlsx

    folder, media_id, _ = fresh
    name = "boris/test_export_aggregated_events_test_full_1.tsv"
    xlsx = tmp_path / "events.xlsx"
    xlsx.write_bytes(_as_xlsx(name))
    args = ("moments", "import", media_id, "--coder", "bob", "--dry-run", "--json")
    from_xlsx = ok(vf(folder, "bob", *args[:3], xlsx, *args[3:]))
    from_tsv = ok(vf(folder, "bob", *args[:3], DATA / name, *args[3:]))
    assert from_xlsx["entries"] == from_tsv["entries"] == 18
    def spans(report):
        return [(m["start"], m["end"], m["note"]) for m in report["would_import"]]

    assert spans(from_xlsx) == spans(from_tsv)


def test_import_dry_run_reports_and_stores_nothing(fresh):
    folder, media_id, _ = fresh
    aggregated = DATA / "boris" / "test_export_aggregated_events_test_full_1.tsv"
    report = ok(
        vf(
            folder,
            "bob",
            "moments",
            "import",
            media_id,
            aggregated,
            "--coder",
            "bob",
            "--dry-run",
            "--json",
        )
    )
    assert report["dry_run"] and report["entries"] == 18
    assert report["would_import"][0]["start_seconds"] == 1.8
    assert report["unmapped"] == {"Behavior: p": 8, "Behavior: s": 10}
    assert report["outside_recording"] == 12  # the recording is 120 s long
    assert any("--offset SECONDS" in p for p in report["problems"])
    assert ok(vf(folder, "bob", "moments", "list", media_id, "--json"))["moments"] == []
    refused = vf(folder, "bob", "moments", "import", media_id, aggregated, "--coder", "bob")
    assert_one_line_error(refused, "--new-codebook NAME")
    assert "--clip" in refused.err and "--skip" in refused.err
    done = ok(
        vf(
            folder,
            "bob",
            "moments",
            "import",
            media_id,
            aggregated,
            "--coder",
            "bob",
            "--keep-labels",
            "--skip",
            "--json",
        )
    )
    assert len(done["imported"]) == 6 and done["skipped_outside"] == 12
    listed = ok(vf(folder, "bob", "moments", "list", media_id, "--json"))["moments"]
    assert [m["note"] for m in listed][:1] == ["Behavior: s"]


def test_new_codebook_from_elan_and_case_codebook(fresh):
    folder, media_id, case_id = fresh
    eaf = DATA / "elan" / "pympi-sample_3.0-excerpt.eaf"
    done = vf(
        folder,
        "bob",
        "moments",
        "import",
        media_id,
        eaf,
        "--coder",
        "bob",
        "--new-codebook",
        "Gestures",
    )
    assert done.code == 0, done.err
    assert "not kept: tier words-timesub: the times of 15" in done.err  # said before storing
    listed = ok(vf(folder, "bob", "moments", "list", media_id, "--json"))["moments"]
    assert len(listed) == 12 and listed[0]["codes"] == ["tier.gestures", "gesture.prep"]
    assert "gestures" in {
        b["id"] for b in ok(vf(folder, "bob", "codebook", "list", "--json"))["codebooks"]
    }
    # a second file into the same codebook adds to it, keeping the codes in use
    older = DATA / "elan" / "pympi-sample_2.7-excerpt.eaf"
    ok(
        vf(
            folder,
            "bob",
            "moments",
            "import",
            media_id,
            older,
            "--coder",
            "sue",
            "--new-codebook",
            "Gestures",
        )
    )
    # the case is now coded with the new codebook: going back to VIG would orphan codes
    assert_one_line_error(vf(folder, "bob", "case", "codebook", case_id, "vig"), "lacks")
    assert_one_line_error(vf(folder, "bob", "case", "codebook", case_id, "nope"), "no codebook")
    assert_one_line_error(vf(folder, "sue", "case", "codebook", case_id, "vig"), "may not")
    # a supervisor imports her own coding, but cannot change the case's codebook with it
    refused = vf(
        folder,
        "sue",
        "moments",
        "import",
        media_id,
        eaf,
        "--coder",
        "sue",
        "--new-codebook",
        "Sue's scheme",
    )
    assert_one_line_error(refused, "may not")
    books = ok(vf(folder, "bob", "codebook", "list", "--json"))["codebooks"]
    assert "sue-s-scheme" not in {b["id"] for b in books}


def test_case_codebook_sets_the_codebook_moments_are_checked_against(fresh):
    folder, media_id, case_id = fresh
    ok(vf(folder, "bob", "case", "codebook", case_id, "piccolo", "--json"))
    code = ok(vf(folder, "bob", "codebook", "show", "piccolo", "--json"))["categories"][0]["codes"][
        0
    ]["id"]
    ok(vf(folder, "bob", "moments", "add", media_id, "--start", "1", "--code", code))
    assert_one_line_error(
        vf(
            folder,
            "bob",
            "moments",
            "add",
            media_id,
            "--start",
            "2",
            "--code",
            "encouraging.waiting",
        ),
        "not in the codebook",
    )


def test_encodings_and_maps_from_the_command_line(fresh, tmp_path):
    folder, media_id, _ = fresh
    vtt = tmp_path / "old-player.vtt"
    vtt.write_bytes(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Mum>\u201ccaf\u00e9\u201d</v>\n".encode(
            "cp1252"
        )
    )
    assert_one_line_error(
        vf(folder, "bob", "moments", "import", media_id, vtt, "--coder", "bob"), "--encoding"
    )
    done = ok(
        vf(
            folder,
            "bob",
            "moments",
            "import",
            media_id,
            vtt,
            "--coder",
            "bob",
            "--encoding",
            "cp1252",
            "--json",
        )
    )
    assert done["kept_as_text"] == {"Speaker: Mum": 1}
    excel = tmp_path / "excel.csv"  # Excel's "Unicode text": UTF-16 LE with a BOM, tabs
    excel.write_bytes(
        b"\xff\xfe"
        + "start\tend\tcodes\tcaption\n5\t6\tWaiting\tZa\u017c\u00f3\u0142\u0107\n".encode(
            "utf-16-le"
        )
    )
    mapping = tmp_path / "map.csv"
    mapping.write_text("label,code\nWaiting,encouraging.waiting\n")
    ok(vf(folder, "bob", "moments", "import", media_id, excel, "--coder", "bob", "--map", mapping))
    listed = ok(vf(folder, "bob", "moments", "list", media_id, "--json"))["moments"]
    assert [(m["caption"], m["codes"], m["note"]) for m in listed] == [
        ("\u201ccaf\u00e9\u201d", [], "Speaker: Mum"),
        ("Za\u017c\u00f3\u0142\u0107", ["encouraging.waiting"], ""),
    ]
