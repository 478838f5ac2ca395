"""moments / agreement / codebook through the console script, on a registered recording."""

import json
from datetime import date

import pympi
import pytest

from encryption import write_encrypted
from tests.cli.conftest import assert_one_line_error, run_cli
from videofeedback.library import Library, Programme, Purpose, Role, SessionKind, create_case
from videofeedback.library.media_records import add_media


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """A library with bob (practitioner), sue (supervisor) and one 120 s recording at 30 fps."""
    folder = tmp_path_factory.mktemp("annot") / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    library.add_user(alice, "sue", Role.SUPERVISOR, "sue-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family K", Programme.VIG, date.today(), ["sue"])
    mother = case.add_participant("Kasia", "mother")
    case.set_consent(mother, Purpose.FILMING, True)
    session = case.new_session(SessionKind.RECORDING, date.today())
    (case.folder / "media").mkdir()
    write_encrypted(case.folder / "media" / "rec.age", b"not really video", case.recipients)
    media_id = add_media(
        case, session, "recording", "media/rec.age", {"fps": "30", "duration": "120"}
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
    assert eaf.get_annotation_data_for_tier("Encouraging initiatives") == [
        (10000, 16500, "encouraging.waiting")
    ]
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
