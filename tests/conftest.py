import os
import shutil
import sys
import tempfile

import pytest

from tests import fast_scrypt
from tests.scheduling import heavy_first
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
    # real pytest-xdist workers, one killed by SIGSEGV (the bookkeeping is tested in the quick tier)
    "tests/test_scheduling.py::test_a_worker_that_dies_ends_the_run_red_not_hung",
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
    "tests/ui/test_sync_sealing.py",  # a shared laptop in the app, two unlocks and syncs (~14 s)
    "tests/team/test_sync_plans.py::test_a_plan_edit_sealed_without_the_store_goes_up_at_the_next_sync",
    # a user added after team init: publish, take, add to a case, join (~8 s); and by the CLI
    "tests/team/test_roster_sync.py::test_a_user_added_after_init_joins_and_sees_exactly_their_cases",
    "tests/team/test_roster_sync.py::test_the_administrator_adds_a_user_syncs_and_he_joins_by_the_command_line",
    # a removed administrator racing his removal (~2.5 s each); the quick tier keeps the units
    "tests/team/test_roster_removal_race.py::test_a_removed_administrators_roster_of_the_same_serial_gives_way",
    "tests/team/test_roster_removal_race.py::test_a_removed_administrator_who_removes_his_remover_is_reported",
    # two and three laptops, 210 edits, offline spells, dozens of syncs (~12-23 s a run)
    "tests/team/test_sync_random.py",
    # `videofeedback sync` SIGKILLed 22 times, a 300 MiB recording's upload among them (~30 s)
    "tests/team/test_sync_kills.py",
    # a 40 MiB recording uploaded, killed six times, resumed and pulled (~16 s)
    "tests/team/test_sync_media.py",
    # a store of its own started, stopped mid-download and restarted (~8 s)
    "tests/team/test_download.py::test_a_stopped_store_is_one_clear_error_and_the_download_resumes_later",
    # this session's team tests over ~1 s (each module keeps a faster test in the quick tier:
    # the parallel download byte for byte, a plan made on one laptop and exported on another)
    "tests/team/test_download.py::test_an_interrupted_download_resumes_from_its_checkpoint",
    "tests/team/test_download.py::test_a_damaged_partial_file_is_caught_by_the_hash_and_fetched_again",
    "tests/team/test_download.py::test_other_bytes_under_the_name_are_refused_and_nothing_is_kept",
    "tests/team/test_download.py::test_a_downloaded_recording_is_not_sent_back_at_the_next_sync",
    "tests/team/test_signed_batches.py::test_two_users_of_one_laptop_are_each_the_author_of_their_own_batches",
    "tests/team/test_signed_batches.py::test_a_change_saved_offline_is_signed_by_its_author_not_by_the_next_user_who_syncs",
    "tests/team/test_sync_plans.py::test_a_supervisors_signed_approval_does_not_make_a_plan_exportable",
    "tests/ui/test_redaction.py::test_a_review_written_into_the_plan_without_a_signed_approval_shows_pending",
    # the review's attacks that run `team init/join` through the CLI, or sync two cases (~8 s)
    "tests/team/test_review_attacks.py::test_a_roster_re_signed_by_a_code_holder_is_refused_on_join",
    "tests/team/test_review_attacks.py::test_an_older_team_package_put_back_by_the_store_is_refused_where_pinned",
    "tests/team/test_review_attacks.py::test_the_store_cannot_serve_another_cases_head_under_this_case",
    # The quick tier's long tail (issue 14: quick tier <= 90 s): each over ~1.5 s on a quiet
    # machine, with faster tests of the same modules left in the quick tier.
    # - the team store: laptops set up and synced against SeaweedFS; the quick tier keeps the
    #   store, merge, case document, ranged reads, one sync and one confidentiality attack
    "tests/team/test_review_attacks.py",
    "tests/team/test_key_epochs.py",
    "tests/team/test_remote_commands.py",
    "tests/team/test_sync_cli.py",
    "tests/team/test_store.py::test_a_store_that_is_stopped_and_started_keeps_its_objects",
    "tests/team/test_sync.py::test_two_laptops_exchange_changes_and_converge",
    "tests/team/test_sync.py::test_concurrent_edits_of_one_field_are_kept_and_resolved",
    "tests/team/test_sync.py::test_two_peoples_moments_on_one_recording_are_both_kept",
    "tests/team/test_sync.py::test_a_consent_withdrawal_on_one_laptop_stops_filming_on_the_other",
    "tests/team/test_sync.py::test_a_push_killed_after_its_pack_of_entries_resumes_with_the_rest",
    "tests/team/test_sync.py::test_a_sync_with_nothing_new_writes_nothing",
    "tests/team/test_sync_attacks.py::test_a_head_forged_in_another_members_name_is_refused",
    "tests/team/test_sync_attacks.py::test_a_laptop_two_key_epochs_behind_catches_up",
    "tests/team/test_sync_attacks.py::test_a_store_rolled_back_to_older_objects_is_refused_naming_the_case",
    "tests/team/test_sync_attacks.py::test_a_removed_member_reads_nothing_written_after",
    "tests/team/test_sync_attacks.py::test_a_store_hiding_an_object_a_head_names_is_refused",
    # - the command line run as a person does, a process per command
    "tests/cli/test_library_script.py",
    "tests/cli/test_annotation_commands.py::test_new_codebook_from_elan_and_case_codebook",
    "tests/cli/test_annotation_commands.py::test_moments_export_import_agreement",
    "tests/cli/test_annotation_commands.py::test_import_dry_run_reports_and_stores_nothing",
    "tests/cli/test_trust_local.py::test_a_supervisor_exports_moments_without_private_notes",
    "tests/cli/test_trust_local.py::test_ffmpeg_never_inherits_the_passphrase",
    "tests/cli/test_trust_local.py::test_every_library_folder_is_0700_and_every_file_0600",
    "tests/cli/test_trust_local.py::test_a_killed_family_copy_is_removed_audited_and_reported_by_the_next_command",
    # - media: encodes, face detection on films, fuzzing of box files
    "tests/library/test_operations.py::test_many_threads_and_jobs_on_one_case_lose_nothing",
    "tests/media/test_boxes.py::test_random_box_trees_raise_only_project_errors",
    "tests/media/test_boxes.py::test_truncated_and_mutated_files_raise_only_project_errors",
    "tests/media/test_camera.py::test_waiting_for_a_silent_microphone_gives_up",
    "tests/media/test_import_copy.py::test_b_frames_or_long_gops_are_re_encoded",
    "tests/media/test_private_channel.py::test_ffmpeg_gets_a_minimal_environment_without_the_passphrase",
    "tests/media/test_redact_edit.py::test_a_small_head_passing_fast_over_her_chin_does_not_drag_her_box_along",
    "tests/media/test_redact_edit.py::test_a_participant_beside_behind_or_in_front_of_someone_hidden_stays_visible",
    "tests/media/test_redact_tracking.py::test_the_detector_finds_real_faces_turning_and_behind_a_hand",
    "tests/media/test_redacted_exports.py::test_an_exported_still_hides_the_son_and_keeps_the_mother",
    "tests/media/test_sync.py::test_an_import_keeps_sound_with_picture",
    # - the app: whole walkthroughs that record, play or build a demo
    "tests/ui/test_walkthrough.py::test_walkthrough_a_recording_never_runs_unseen",
    "tests/ui/test_walkthrough.py::test_walkthrough_the_shared_review_shows_only_the_chosen_moments",
    "tests/ui/test_walkthrough.py::test_walkthrough_first_run_shows_the_window_before_the_demo_is_built",
    "tests/ui/test_walkthrough.py::test_walkthrough_the_supervisor_sees_who_did_what_when",
    "tests/ui/test_walkthrough.py::test_walkthrough_sign_off_defaults_to_the_reviews_film",
    "tests/ui/test_gui_thread_reads.py::test_the_shared_review_session_is_made_off_the_gui_thread",
    "tests/ui/test_player.py::test_playing_then_unloading_many_times_never_hangs",
    "tests/ui/test_redaction.py::test_find_name_review_mute_approve_then_the_family_copy_hides_the_brother",
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


# --- spreading the files over the workers (tests/scheduling.py) -----------------------------
# ./test.sh gives each pytest-xdist worker whole files (--dist loadfile). These files take
# longest (a whole run, slowest first, docs/PERFORMANCE.md "The quick tier, fourth pass"): they
# go first, so that no long file starts last and keeps one core busy while the other idles.
# The others follow in the usual order. A file missing here only runs later.
HEAVY_FIRST = (
    "tests/ui/test_demo.py",  # the real 2-minute demo library, built once (~45 s)
    # not a widget test: the other worker starts on it while the first builds the UI tests'
    # demo template (tests/ui/conftest.py, small_demo), which the walkthrough's parts wait for
    "tests/media/test_redact_tracking.py",
    "tests/ui/test_walkthrough.py",
    "tests/team/test_review_attacks.py",
    "tests/media/test_import_and_stills.py",
    "tests/team/test_sync_kills.py",
    "tests/team/test_sync_media.py",
    "tests/team/test_join.py",
    "tests/team/test_sync_random.py",
    "tests/ui/test_reel.py",
    "tests/media/test_reel_render.py",
    "tests/team/test_sync_cli.py",
    "tests/ui/test_sync_conflicts.py",
    "tests/team/test_discovery.py",
    "tests/team/test_sync.py",
    "tests/cli/test_annotation_commands.py",
    "tests/cli/test_trust_local.py",
    "tests/team/test_sync_attacks.py",
    "tests/encryption/test_crash_recovery.py",
    "tests/media/test_redact_edit.py",
    "tests/media/test_cut.py",
    "tests/media/test_redact_export.py",
    "tests/team/test_key_epochs.py",
    "tests/cli/test_library_script.py",
    "tests/cli/test_redact_commands.py",
    "tests/team/test_remote_commands.py",
    "tests/media/test_overview.py",
    "tests/media/test_sync.py",
    "tests/ui/test_redaction_edit.py",
    "tests/team/test_sync_plans.py",
    "tests/team/test_store_playback_check.py",
    "tests/team/test_signed_batches.py",
    "tests/team/test_trail_travels.py",
    "tests/team/test_roster_sync.py",
    "tests/team/test_download.py",
    "tests/team/test_owner_claims.py",
)
# Files cut into this many parts of consecutive tests, which different workers may run (each
# part is still in order; the tests of these files share no state but read-only templates).
SPLIT = {
    "tests/ui/test_walkthrough.py": 3,
    "tests/team/test_review_attacks.py": 2,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` in the order above, with the files of SPLIT in parts."""
    if config.getoption("dist") != "loadfile":
        return None
    from tests.scheduling import HeavyFirstFileScheduling

    config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems made
    return HeavyFirstFileScheduling(config, log, SPLIT)


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
    if _leaves_out_slow(config):  # the quick tier: every real-time test is in the slow tier
        return True
    files = {entry.split("::")[0] for entry in REALTIME}
    relative = collection_path.relative_to(config.rootpath).as_posix()
    return None if relative in files else True


def _listed(test: str, names: tuple[str, ...]) -> bool:
    return test in names or test.split("::")[0] in names


def _leaves_out_slow(config) -> bool:
    """Whether ``-m`` leaves out the tests marked slow (the quick tier, ``-m "not slow"``)."""
    from _pytest.mark.expression import Expression

    expression = config.getoption("markexpr")
    if not expression:
        return False
    return not Expression.compile(expression).evaluate(lambda name, **_: name == "slow")


def pytest_collection_modifyitems(config, items):
    realtime = config.getoption("--realtime")
    kept, left_out = [], []
    heavy_first(items, HEAVY_FIRST)
    for item in items:
        test = item.nodeid.split("[")[0]
        # the quick tier leaves out the real-time phase: its tests wait for the clock, one
        # at a time (the parallel phase keeps fast tests of the same modules)
        if _listed(test, SLOW) or _listed(test, REALTIME):
            item.add_marker(pytest.mark.slow)
        is_realtime = _listed(test, REALTIME)
        wanted = realtime == "all" or (realtime == "only") == is_realtime
        (kept if wanted else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
