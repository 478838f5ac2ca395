"""The library script from issue 3, run as written in an empty folder; then every other
command; then a scan of everything written for the family's data in plaintext."""

import json
import subprocess
from pathlib import Path

from tests import fast_scrypt
from tests.cli.conftest import SCRIPT

ISSUE_SCRIPT = """
set -e
export VIDEOFEEDBACK_LIBRARY=$PWD/lib
VIDEOFEEDBACK_PASSPHRASE=alice-quiet-harbour-lantern videofeedback --user alice init
VIDEOFEEDBACK_PASSPHRASE=alice-quiet-harbour-lantern VIDEOFEEDBACK_NEW_PASSPHRASE=bob-quiet-harbour-lantern videofeedback --user alice user add bob --role practitioner
VIDEOFEEDBACK_PASSPHRASE=alice-quiet-harbour-lantern VIDEOFEEDBACK_NEW_PASSPHRASE=sue-quiet-harbour-lantern videofeedback --user alice user add sue --role supervisor
export VIDEOFEEDBACK_USER=bob VIDEOFEEDBACK_PASSPHRASE=bob-quiet-harbour-lantern
case=$(videofeedback case new "Family K" --programme VIG --supervisor sue --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
p=$(videofeedback participant add "$case" "Kasia" --role mother --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
videofeedback consent set "$case" "$p" --purpose filming --given
videofeedback session new "$case" --kind recording --json
videofeedback goal add "$case" "Notice and name what the baby is showing" --json
videofeedback audit verify "$case"
videofeedback export "$case" --to sue --out bundle.age
VIDEOFEEDBACK_USER=sue VIDEOFEEDBACK_PASSPHRASE=sue-quiet-harbour-lantern videofeedback open-bundle bundle.age --json
"""

SECRETS = [
    "Family K",
    "Kasia",
    "Notice and name what the baby is showing",
    "grandmother visited with the twins",
    "Zbigniew",
]


def shell(folder: Path, script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )


def test_issue_script_then_every_command_then_no_plaintext_anywhere(tmp_path):
    work, temp, home = tmp_path / "work", tmp_path / "tmp", tmp_path / "home"
    for d in (work, temp, home):
        d.mkdir()
    env = {
        "PATH": f"{SCRIPT.parent}:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(temp),
        "LANG": "C.UTF-8",
        **fast_scrypt.child_env(),  # reads the test-made identities
    }
    done = shell(work, ISSUE_SCRIPT, env)
    assert done.returncode == 0, done.stdout + done.stderr
    bundle = json.loads(done.stdout[done.stdout.rindex("{\n") :])
    assert bundle["label"] == "Family K" and bundle["signature_valid"] and bundle["audit_valid"]
    assert bundle["participants"] == 1 and bundle["sessions"] == 1 and bundle["goals"] == 1

    lib = {
        **env,
        "VIDEOFEEDBACK_LIBRARY": str(work / "lib"),
        "VIDEOFEEDBACK_USER": "bob",
        "VIDEOFEEDBACK_PASSPHRASE": "bob-quiet-harbour-lantern",
    }

    def vf(*args, **extra):
        result = subprocess.run(
            [str(SCRIPT), *args],
            cwd=work,
            env={**lib, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (args, result.stderr)
        return json.loads(result.stdout) if "--json" in args else result.stdout

    case_id = vf("case", "list", "--json")["cases"][0]["id"]
    shown = vf("case", "show", case_id, "--json")
    participant = shown["participants"][0]["id"]
    father = vf("participant", "add", case_id, "Zbigniew", "--role", "father", "--json")["id"]
    vf("consent", "set", case_id, father, "--purpose", "filming", "--given")
    vf(
        "session",
        "new",
        case_id,
        "--kind",
        "recording",
        "--notes",
        "grandmother visited with the twins",
        "--json",
    )
    vf("consent", "withdraw", case_id, participant, "--purpose", "filming")
    refused = subprocess.run(
        [str(SCRIPT), "session", "new", case_id, "--kind", "recording"],
        cwd=work,
        env=lib,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "withdrew consent to filming" in refused.stderr
    vf("consent", "set", case_id, participant, "--purpose", "shared-review", "--given")
    goal = shown["goals"][0]["id"]
    vf("goal", "score", case_id, goal, "--score", "1", "--date", "2026-02-01", "--json")
    sessions = vf("session", "list", case_id, "--json")["sessions"]
    assert [s["kind"] for s in sessions] == ["recording", "recording"]
    assert "grandmother visited with the twins" in [s["notes"] for s in sessions]
    users = vf("user", "list", "--json")["users"]
    assert [u["name"] for u in users] == ["alice", "bob", "sue"]
    show = vf("audit", "show", case_id, "--json")["entries"]
    assert {"case.create", "participant.add", "consent.withdraw", "export"} <= {
        e["action"] for e in show
    }
    assert vf(
        "audit", "verify", "--json", VIDEOFEEDBACK_USER="alice", VIDEOFEEDBACK_PASSPHRASE="alice-quiet-harbour-lantern"
    )["valid"]
    vf("case", "close", case_id, "--json")
    purged = vf(
        "purge", "--yes", "--json", VIDEOFEEDBACK_USER="alice", VIDEOFEEDBACK_PASSPHRASE="alice-quiet-harbour-lantern"
    )
    # closed today: kept for its retention period. The command line has no date override
    # (issue 16, finding 6); purging after the date is tested in tests/library.
    assert purged["purged"] == []
    assert (work / "lib" / "cases" / case_id).exists()

    scan(tmp_path)


def scan(root: Path) -> None:
    """No file written anywhere in the run holds the family's data in plaintext."""
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le")):
                assert encoded not in data, f"{secret!r} in plaintext in {path}"
