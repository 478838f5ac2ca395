"""Issue 17: `videofeedback sync` (the CLI, as a person runs it) killed with SIGKILL at seeded
random moments, at least 20 times, across the whole sync — start, pull, merge, push of
entries and batches, heads, and the parts of a ~300 MB recording — while two laptops keep
editing. After every kill: no half object in the store, the local library still opens with
everything in it. At the end a clean sync converges both laptops: the same state, the
recording byte-identical on the other laptop, and the trail verifies on both."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import time
from datetime import date

from botocore.exceptions import ClientError

from encryption import atomic_encrypted_writer
from tests.cli.conftest import SCRIPT, run_cli
from tests.team.laptops import child_env, first_laptop, sync_ok
from videofeedback.library.cases import SessionKind
from videofeedback.team.heads import PACK_MAGIC, CaseNames, decrypt, unpack
from videofeedback.team.sync import open_for_sync

SIZE = 300 * 1024 * 1024  # 19 parts of the production 16 MiB
CHUNK = 8 * 1024 * 1024
KILLS = 22


def _recording(laptop, case_id):
    """A recording of SIZE bytes of real age ciphertext (of zeros: the ciphertext is as
    random as a film's, without paying for os.urandom), added as the camera would."""
    with laptop.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2), "filmed")
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        with atomic_encrypted_writer(case.folder / "media" / "r1.age", case.recipients) as out:
            zeros = bytes(CHUNK)
            for _ in range(SIZE // CHUNK):
                out.write(zeros)
        media_id = case.media.add(session_id, "recording", "media/r1.age", {})
        case.save()
        return media_id, CaseNames.of(case.identity).media(media_id)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _keys(laptops, case_id):
    """Every key the members hold for the case: its epochs and each member's own (a device's
    key.age in the store is for its member)."""
    keys = []
    for laptop in laptops:
        with laptop.session() as (_, session):
            keys += open_for_sync(session, case_id).identity.identities + session.identities
    return keys


def _no_half_object(store, media_name, size, keys):
    """Every object is whole: the recording exactly its recorded size (S3 shows a multipart
    upload only once completed), every other one an age file that decrypts to its end (age's
    last chunk is marked: a cut-off file fails; a pack of entries is framed by lengths)."""
    for info in store.list(""):
        if info.name.startswith("probe/"):
            continue
        if info.name == media_name:
            assert info.size == size, f"half a recording visible: {info.size} of {size}"
        else:
            data = store.get(info.name)
            # a pack of audit entries: each framed by its length, each an age file
            for item in unpack(data) if data.startswith(PACK_MAGIC) else [data]:
                decrypt(item, keys)  # raises on a cut-off or damaged object


def _parts_in_store(store, state_file):
    """How many parts the pending multipart upload holds (0 when none is pending)."""
    try:
        state = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return 0
    key, bucket = store.location.key(state["name"]), store.location.bucket
    try:
        reply = store.s3.list_parts(Bucket=bucket, Key=key, UploadId=state["upload"])
    except ClientError:  # the upload was completed (or forgotten) meanwhile
        return 0
    return len(reply.get("Parts", []))


def _local_still_whole(laptop, case_id, made, media_path, size):
    """The library opens, the case's trail verifies, every edit made so far is there, and the
    recording is untouched (its size here; its hash at the end)."""
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        report = case.verify_audit()
        assert report.valid, report.summary()
        goals = {g["text"] for g in case.summary()["goals"]}
        assert set(made) <= goals
    assert media_path.stat().st_size == size


def _edit(laptop, case_id, text):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        if laptop.user == "sam":
            case.supervision.add_comment(case_id, text)
        else:
            case.goals.add(text)
        case.save()


def _kill_at(child, rng, progressed, latest, aim_mid_upload):
    """Wait for the chosen moment, then SIGKILL. Returns True if the child was still running
    (a kill), False if it had already finished. ``latest``: how long a whole sync has been
    seen to take (the moments spread over it, whatever the machine's speed). While the upload
    is pending (``progressed`` given), a new part in the store is also a moment: killed then,
    or when aiming mid-upload, only then (so the upload needs several runs to finish)."""
    deadline = time.monotonic() + (3600.0 if aim_mid_upload else rng.uniform(0.0, latest))
    while child.poll() is None and time.monotonic() < deadline:
        if progressed is not None and progressed():
            time.sleep(rng.uniform(0.0, 0.05))
            break
        time.sleep(0.02)
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGKILL)
    child.wait()
    return True


def _typical(runs):
    """A moment before a whole sync ends: most of its usual (median) time, as measured on this
    machine (the first guess until one run has finished)."""
    measured = sorted(runs[1:]) or runs
    return 0.85 * measured[len(measured) // 2]


def _state(laptop, case_id):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        report = case.verify_audit()
        assert report.valid, report.summary()
        info = case.summary()
        return {k: info[k] for k in ("label", "participants", "sessions", "goals", "comments")}


def test_sync_killed_twenty_times_never_shows_half_an_object_and_converges(tmp_path, store):
    rng = random.Random(17)
    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    sync_ok(b)
    media_id, media_name = _recording(a, case_id)
    media_path = a.folder / "cases" / case_id / "media" / "r1.age"
    upload_state = a.folder / "cases" / case_id / "sync" / "uploads" / media_id
    digest, size = _sha256(media_path), media_path.stat().st_size
    keys = _keys((a, b), case_id)
    made: list[str] = []
    kills, finished, landed = 0, 0, {"no new part": 0, "mid-upload": 0, "after": 0}
    parts_seen, whole_runs = [0], [3.0]
    while kills < KILLS:
        if rng.random() < 0.5:  # something to push: a goal on pat's laptop
            made.append(f"goal {len(made)}")
            _edit(a, case_id, made[-1])
        if rng.random() < 0.3:  # something to pull and merge: sam's comment in the store
            _edit(b, case_id, f"comment {kills}")
            sync_ok(b)
        uploaded = store.head(media_name) is not None
        before = parts_seen[-1]
        progressed = None
        if not uploaded:
            progressed = lambda old=before: _parts_in_store(store, upload_state) > old  # noqa: E731
        aim_mid_upload = not uploaded and rng.random() < 0.6
        child = subprocess.Popen(
            [str(SCRIPT), "--user", "pat", "sync"],
            env=child_env(a, "pat"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        if _kill_at(child, rng, progressed, _typical(whole_runs), aim_mid_upload):
            kills += 1
            parts = _parts_in_store(store, upload_state)
            if uploaded:
                landed["after"] += 1
            elif parts > before and store.head(media_name) is None:
                landed["mid-upload"] += 1  # the upload under way, further on than before
            else:
                landed["no new part"] += 1  # start, pull, merge, entries, batches, heads
            parts_seen.append(parts)
        else:
            finished += 1
            whole_runs.append(time.monotonic() - started)
            assert child.returncode == 0
        _no_half_object(store, media_name, size, keys)
        _local_still_whole(a, case_id, made, media_path, size)
        assert finished < 40, ("the sync finishes before the kills", landed, whole_runs)
    assert kills >= 20, landed
    assert landed["mid-upload"] >= 3, (landed, parts_seen)  # progress seen between kills
    assert landed["after"] >= 3, landed  # pull, merge, entries, batches, heads
    for laptop in (a, b, a, b):  # a clean sync of each, twice round
        sync_ok(laptop)
    assert _sha256(media_path) == digest  # the local recording: never harmed
    assert store.head(media_name).size == size
    pulled = b.folder / "cases" / case_id / "media" / "r1.age"
    assert _sha256(pulled) == digest
    assert _state(a, case_id) == _state(b, case_id)
    assert set(made) <= {g["text"] for g in _state(b, case_id)["goals"]}
    for laptop, user in ((a, "pat"), (b, "sam")):
        verified = run_cli("--user", user, "audit", "verify", case_id, env=child_env(laptop, user))
        assert verified.code == 0, verified.text
    print(f"kills {kills} {landed}, finished {finished}, parts {parts_seen}")
