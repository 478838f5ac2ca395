import os
import shutil
import sys
import tempfile

import pytest

from tests import fast_scrypt
from tests.templates import SHARED

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Identity files at scrypt 2^10 in this process and in every process it starts
# (tests/fast_scrypt.py says why that cannot reach a real library).
fast_scrypt.install()
os.environ["PYTHONPATH"] = fast_scrypt.child_pythonpath()


def pytest_configure(config):
    """The run (and each xdist worker) gets its own temporary folder (TMPDIR, for its children
    too): the plaintext scans of the temporary folder (tests/ui/test_workflow.py) then see only
    this run's files, not those another run or worker is writing and deleting at that moment.
    pytest's own tmp_path folders stay where they were (PYTEST_DEBUG_TEMPROOT)."""
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", tempfile.gettempdir())
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    if SHARED not in os.environ:  # ./test.sh sets it for both its phases; xdist workers inherit it
        shared = tempfile.mkdtemp(prefix="videofeedback-tests-shared-")
        config.add_cleanup(lambda: shutil.rmtree(shared, ignore_errors=True))
        os.environ[SHARED] = shared
    folder = tempfile.mkdtemp(prefix=f"videofeedback-tests-{worker}-")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.environ["TMPDIR"] = folder
    # What a computer remembers of its libraries (pinned administrators, signed heads) lives
    # outside the library folder; each run and worker keeps its own (xdist workers inherit
    # the controller's environment, so this cannot be set once at import).
    os.environ["VIDEOFEEDBACK_STATE_DIR"] = os.path.join(folder, "state")
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


@pytest.fixture
def production_scrypt(monkeypatch):
    """The application's scrypt work factor (2^18), for tests about key derivation itself."""
    from encryption import keys

    monkeypatch.setattr(keys, "MIN_WRITE_WORK_FACTOR", 18)
    return 18


# --- Qt: only the tests that need it get a QApplication -------------------------------------
# Tests of encryption/, annotations/ and clips/ run without Qt (they even pass with PySide6
# unimportable: tests/test_headless.py). Widget tests (tests/ui) get pytest-qt's `qapp`; a test
# whose code draws captions (videofeedback.captions) asks for `qt_gui`.


@pytest.fixture(scope="session")
def _one_qapplication(qapp):
    """The one QApplication of the run (pytest-qt's): widget tests and caption drawing share it."""
    return qapp


@pytest.fixture
def qt_gui(_one_qapplication):
    """For tests whose code draws captions or title cards: without it, captions would make a
    bare QGuiApplication, which the widget tests run after it in this process could not use."""
    return _one_qapplication


@pytest.fixture(autouse=True)
def _no_stray_qt_application(request):
    """Fails a test that made a Qt application without asking for one (it would break the
    widget tests that run after it in the same process, depending on the order)."""
    had_one = _qt_application() is not None
    yield
    app = _qt_application()
    if had_one or app is None:
        return
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is not None and isinstance(app, widgets.QApplication):
        return
    pytest.fail(
        f"{request.node.nodeid} made a bare QGuiApplication (captions?): ask for the qt_gui "
        "fixture so that it is the run's one QApplication"
    )


def _qt_application() -> object | None:
    gui = sys.modules.get("PySide6.QtGui")
    return None if gui is None else gui.QGuiApplication.instance()


# --- tiers ------------------------------------------------------------------------------------
# The quick tier, `./test.sh -m "not slow"`, leaves out these (each over ~5 s on two busy
# cores; docs/PERFORMANCE.md) besides tests marked @pytest.mark.slow in their own file.
SLOW = (
    "tests/test_headless.py",
    "tests/test_self_contained.py",
    "tests/cli/test_media_commands.py::test_media_workflow_through_the_cli",
    "tests/cli/test_redact_commands.py::test_redaction_through_the_cli",
    "tests/encryption/test_crash_recovery.py::test_killed_writers_recover_exactly_their_complete_chunks",
    "tests/media/test_import_and_stills.py::test_every_real_file_imports",
    "tests/media/test_overview.py::test_overview_of_a_recording",
    "tests/media/test_record.py::test_a_full_disk_stops_cleanly_and_keeps_what_was_recorded",
    "tests/media/test_record.py::test_a_killed_recording_is_recovered_to_a_playable_file",
    "tests/media/test_reel_render.py::test_full_reel_with_title_stills_slow_motion_and_three_scripts",
    "tests/ui/test_jobs.py::test_a_dropped_file_imports_with_progress_and_cancel_leaves_nothing",
    "tests/ui/test_reel.py::test_build_reorder_caption_then_render_draft_and_final",
    "tests/ui/test_redaction_edit.py",
    "tests/ui/test_walkthrough.py::test_walkthrough_reels_are_kept_and_reachable",
    "tests/media/test_import_and_stills.py::test_generated_variants",
    # scrypt at the application's 2^18 (~2.4 s a key here), on purpose
    "tests/encryption/test_interop_age.py::test_our_passphrase_file_decrypts_with_age",
    "tests/encryption/test_interop_age.py::test_age_passphrase_file_decrypts_with_ours",
    "tests/encryption/test_tampering.py::test_wrong_passphrase",
    "tests/encryption/test_work_factor.py::test_the_application_writes_2_18_and_refuses_anything_weaker",
    "tests/cli/test_crypto_commands.py::test_passphrase_encryption_interoperates_with_age",
    # a microphone 5 % off for 3-4 s of real time each; the quick tier has the same buffer in
    # simulated time (test_a_microphone_5_percent_off_is_held_to_the_clock_in_simulated_time)
    "tests/media/test_camera.py::test_a_fast_microphone_is_held_to_the_clock_by_dropping",
    "tests/media/test_camera.py::test_a_slow_microphone_is_filled_with_silence",
    # the team store: a real SeaweedFS, the CLI as a person runs it, a 24 s movie encoded
    "tests/team/test_join.py",
    "tests/team/test_discovery.py",
    "tests/ui/test_sync_conflicts.py",
    "tests/team/test_remote_media.py::test_exact_frame_from_the_store_reads_a_small_part",
    "tests/ui/test_player_store.py",
    "tests/ui/test_sync_indicator.py",
    # a user added after team init: publish, take, add to a case, join (~8 s); and by the CLI
    "tests/team/test_roster_sync.py::test_a_user_added_after_init_joins_and_sees_exactly_their_cases",
    "tests/team/test_roster_sync.py::test_the_administrator_adds_a_user_syncs_and_he_joins_by_the_command_line",
    # three laptops, dozens of syncs against the real store (~17 s a seed)
    "tests/team/test_sync_random.py",
    # a 40 MiB recording uploaded, killed six times, resumed and pulled (~16 s)
    "tests/team/test_sync_media.py",
    # a store of its own started, stopped mid-download and restarted (~8 s)
    "tests/team/test_download.py::test_a_stopped_store_is_one_clear_error_and_the_download_resumes_later",
    # the review's attacks that run `team init/join` through the CLI, or sync two cases (~8 s)
    "tests/team/test_review_attacks.py::test_a_roster_re_signed_by_a_code_holder_is_refused_on_join",
    "tests/team/test_review_attacks.py::test_an_older_team_package_put_back_by_the_store_is_refused_where_pinned",
    "tests/team/test_review_attacks.py::test_the_store_cannot_serve_another_cases_head_under_this_case",
)


# Tests that record or wait in real time (frames dropped, a duration, a signal within 5 s):
# ./test.sh runs them after the parallel run, one at a time, so the other worker's load does
# not starve them (--realtime=skip, then --realtime=only).
REALTIME = (
    # a watchdog on the GUI thread's loop while another thread saves: with a second pytest
    # worker on the same two cores it measured the machine (0.15 s), not the app
    "tests/ui/test_operations.py::test_a_big_save_never_blocks_the_gui_thread",
    "tests/media/test_camera.py::test_a_fast_microphone_is_held_to_the_clock_by_dropping",
    "tests/media/test_camera.py::test_a_slow_microphone_is_filled_with_silence",
    "tests/media/test_camera.py::test_the_microphone_reads_an_ffmpeg_input",
    "tests/media/test_camera.py::test_a_camera_source_starts_with_picture_and_sound",
    "tests/media/test_camera.py::test_recording_from_a_camera_source",
    "tests/media/test_record.py::test_recording_is_frame_exact_with_markers",
    "tests/media/test_record.py::test_a_killed_recording_is_recovered_to_a_playable_file",
    "tests/media/test_record.py::test_a_full_disk_stops_cleanly_and_keeps_what_was_recorded",
    "tests/cli/test_media_commands.py::test_media_workflow_through_the_cli",
    "tests/ui/test_workflow.py",
    "tests/ui/test_jobs.py::test_a_dropped_file_imports_with_progress_and_cancel_leaves_nothing",
    "tests/ui/test_views.py::test_a_camera_is_offered_and_records",
)


def pytest_addoption(parser):
    parser.addoption(
        "--realtime",
        choices=("all", "skip", "only"),
        default="all",
        help="run the real-time tests (tests/conftest.py REALTIME) too, not, or only",
    )


def pytest_ignore_collect(collection_path, config):
    """The real-time phase (--realtime=only) imports only the files that have real-time tests:
    collecting the whole suite again cost that serial phase seconds of CPU."""
    if config.getoption("--realtime") != "only" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    files = {entry.split("::")[0] for entry in REALTIME}
    relative = collection_path.relative_to(config.rootpath).as_posix()
    return None if relative in files else True


def _listed(test: str, names: tuple[str, ...]) -> bool:
    return test in names or test.split("::")[0] in names


def pytest_collection_modifyitems(config, items):
    realtime = config.getoption("--realtime")
    kept, left_out = [], []
    for item in items:
        test = item.nodeid.split("[")[0]
        if _listed(test, SLOW):
            item.add_marker(pytest.mark.slow)
        is_realtime = _listed(test, REALTIME)
        wanted = realtime == "all" or (realtime == "only") == is_realtime
        (kept if wanted else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
