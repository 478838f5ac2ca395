"""Operations on a case, serialised: one queue (one worker thread) per open case.

Every change to a case is an operation ``op(case) -> Changes`` (or an ``Outcome`` that also
carries a value, such as a new session's id). The case's runner runs its operations one at a
time on its own thread, then saves the case (database and signed audit head) once per
operation, or once per batch. Reads that need a consistent view (nothing changing under
them) go through the same runner with ``read``. Two operations can never touch one ``Case``
at once, so no audit entry and no change is lost; the GUI thread never saves (ui/operations.py
is the Qt side: ``CaseOp``). The CLI runs its mutations through ``run_operation``.

Modelled on Anki's CollectionOp (qt/aqt/operations) and Vorta's one job queue per
repository (src/vorta/borg/jobs_manager.py).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, fields
from datetime import date
from queue import SimpleQueue
from typing import Any, Generic, TypeVar

from .library.annotating import AnnotationSession, store_annotations
from .library.cases import Case
from .library.records import (
    CommentId,
    GoalId,
    Purpose,
    SessionId,
    SessionKind,
    SignoffId,
    WordsId,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """What an operation changed: the views that show these refresh, the others do not."""

    moments: bool = False
    consent: bool = False
    participants: bool = False
    sessions: bool = False
    goals: bool = False
    comments: bool = False
    media: bool = False
    reels: bool = False
    members: bool = False
    signoffs: bool = False
    audit: bool = False  # an audit entry only (an opening, an export)

    def __or__(self, other: Changes) -> Changes:
        merged = {f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)}
        return Changes(**merged)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


NOTHING = Changes()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """An operation's changes and the value it gives back (a new id, a result)."""

    changes: Changes
    value: T


Operation = Callable[[Case], "Changes | Outcome[Any]"]


def _outcome(result: Changes | Outcome[Any]) -> Outcome[Any]:
    if isinstance(result, Outcome):
        return result
    if isinstance(result, Changes):
        return Outcome(result, None)
    raise TypeError(f"an operation returns Changes or Outcome, not {type(result).__name__}")


class CaseRunner:
    """One case's queue: a single worker thread runs its operations in order."""

    def __init__(self, case: Case) -> None:
        self._case = weakref.ref(case)
        self.case_id = case.id
        self._queue: SimpleQueue[tuple[Callable[[Case], Any], Future[Any]] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._work, name=f"case-{case.id}", daemon=True)
        self._closed = False
        self._thread.start()

    @property
    def on_worker(self) -> bool:
        return threading.current_thread() is self._thread

    # --- submitting ----------------------------------------------------------------------

    def submit(self, op: Operation) -> Future[Outcome[Any]]:
        """Run ``op`` in turn, then save once if it changed anything."""
        return self._put(lambda case: _saved(case, _outcome(op(case))))

    def batch(self, ops: Iterable[Operation]) -> Future[Outcome[list[Any]]]:
        """Run ``ops`` one after another as one turn, then save once."""
        chosen = list(ops)

        def run_all(case: Case) -> Outcome[list[Any]]:
            outcomes = [_outcome(op(case)) for op in chosen]
            changes = NOTHING
            for outcome in outcomes:
                changes |= outcome.changes
            return _saved(case, Outcome(changes, [o.value for o in outcomes]))

        return self._put(run_all)

    def live(self) -> Case | None:
        """Its case, while the case is alive and the runner takes work."""
        return None if self._closed else self._case()

    def read(self, query: Callable[[Case], T]) -> Future[T]:
        """Run a read in turn (nothing changes under it); nothing is saved."""
        return self._put(query)

    def job(self, work: Callable[[Case], T]) -> Future[T]:
        """A long job (an import, a recording, a reel) in turn: it saves what it changes
        itself, as media functions do, and nothing else runs on the case meanwhile."""
        return self._put(work)

    def run(self, op: Operation) -> Outcome[Any]:
        """Submit and wait (for worker threads and the CLI, never the GUI thread)."""
        return self.submit(op).result()

    def _put(self, call: Callable[[Case], T]) -> Future[T]:
        future: Future[T] = Future()
        if self.on_worker:  # an operation that runs another: inline, or it would wait forever
            _run(call, self._require_case(), future)
            return future
        if self._closed:
            raise RuntimeError(f"the runner of case {self.case_id} is closed")
        self._queue.put((call, future))
        return future

    # --- the worker ----------------------------------------------------------------------

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            call, future = item
            del item  # the worker keeps no case or result alive between operations
            if future.set_running_or_notify_cancel():
                case = self._case()
                if case is None:
                    future.set_exception(RuntimeError(f"case {self.case_id} was closed"))
                else:
                    _run(call, case, future)
                    del case
            del call, future

    def _require_case(self) -> Case:
        case = self._case()
        if case is None:
            raise RuntimeError(f"case {self.case_id} was closed")
        return case

    def close(self, wait: bool = True) -> None:
        """No more operations; those queued still run."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        if wait and not self.on_worker:
            self._thread.join()


def _run(call: Callable[[Case], T], case: Case, future: Future[T]) -> None:
    try:
        result = call(case)
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
        _roll_back(case)
        future.set_exception(exc)
    else:
        future.set_result(result)


def _roll_back(case: Case) -> None:
    """What a failed operation wrote to the database and did not save is undone."""
    if case.db.in_transaction:
        case.db.rollback()


def _saved(case: Case, outcome: Outcome[T]) -> Outcome[T]:
    if outcome.changes:
        case.save()
    return outcome


_runners: dict[int, CaseRunner] = {}
_runners_lock = threading.Lock()


def runner_for(case: Case) -> CaseRunner:
    """The one runner of this open case (made on first use, closed when the case goes)."""
    with _runners_lock:
        runner = _runners.get(id(case))
        if runner is None:
            runner = _runners[id(case)] = CaseRunner(case)
            weakref.finalize(case, _forget, id(case), runner)
        return runner


def live_case(case_id: str) -> Case | None:
    """The newest open object of this case in this process (the app's), if it has a runner:
    work on the case from elsewhere in the process (a sync) must go through it, in its queue,
    or the two objects would each save a database without the other's changes."""
    with _runners_lock:
        runners = [r for r in _runners.values() if r.case_id == case_id]
    for runner in reversed(runners):  # made in order: the newest last
        case = runner.live()
        if case is not None:
            return case
    return None


def _forget(key: int, runner: CaseRunner) -> None:
    """Called by the garbage collector on whatever thread it ran — possibly one that holds
    ``_runners_lock`` or one that ``runner_for`` is waiting to start — so it never takes the
    lock (that deadlocked). The case is being freed, so its id cannot be reused meanwhile."""
    if _runners.get(key) is runner:
        _runners.pop(key, None)
    runner.close(wait=False)


def run_operation(case: Case, op: Operation) -> Outcome[Any]:
    """Run one operation through the case's queue and wait for it (the CLI's way)."""
    return runner_for(case).run(op)


# --- the operations the app and the CLI share ------------------------------------------------


def audited(case: Case) -> Changes:
    """Nothing but audit entries already appended (an opening, an export): save and sign."""
    return Changes(audit=True)


def set_consent(participant_id: str, purpose: Purpose, given: bool) -> Operation:
    def op(case: Case) -> Changes:
        case.consent.set(participant_id, purpose, given)
        return Changes(consent=True)

    return op


def new_session(
    kind: SessionKind, when: date, notes: str = "", title: str = "", reel: str = ""
) -> Operation:
    def op(case: Case) -> Outcome[SessionId]:
        made = case.sessions.new(kind, when, notes, title, reel)
        return Outcome(Changes(sessions=True), made)

    return op


def add_comment(target: str, text: str) -> Operation:
    def op(case: Case) -> Outcome[CommentId]:
        return Outcome(Changes(comments=True), case.supervision.add_comment(target, text))

    return op


def sign_off(recording_session: str, review_session: str) -> Operation:
    def op(case: Case) -> Outcome[SignoffId]:
        signed = case.supervision.sign_off(recording_session, review_session)
        return Outcome(Changes(signoffs=True), signed)

    return op


def add_parent_words(session_id: SessionId, item: str, text: str) -> Operation:
    def op(case: Case) -> Outcome[WordsId]:
        words = case.sessions.add_parent_words(session_id, item, text)
        return Outcome(Changes(sessions=True), words)

    return op


def add_goal(text: str) -> Operation:
    def op(case: Case) -> Outcome[GoalId]:
        return Outcome(Changes(goals=True), case.goals.add(text))

    return op


def score_goal(goal_id: str, score: int, when: date) -> Operation:
    def op(case: Case) -> Changes:
        case.goals.score(goal_id, score, when)
        return Changes(goals=True)

    return op


def save_annotations(session: AnnotationSession) -> Operation:
    """Store a recording's annotations as they are now: the snapshot is taken when the
    operation is made (on the thread that edits them), stored and saved in turn."""
    media_id, data = session.annotations.media_id, session.snapshot()

    def op(case: Case) -> Changes:
        store_annotations(case, media_id, data)
        return Changes(moments=True)

    return op
