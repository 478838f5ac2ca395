"""A case opened again while an earlier object of it is saving (the app: a view left with its
save under way, the case chosen again) is not taken for a rolled-back case."""

import threading

from videofeedback.library import cases
from videofeedback.library.cases import open_case


def test_opening_a_case_while_it_is_being_saved_waits_for_the_save(world, family, monkeypatch):
    case, _mother = family
    written, release = threading.Event(), threading.Event()
    real_save_database = cases.save_database

    def save_then_hold(db, path, recipients):
        real_save_database(db, path, recipients)
        written.set()  # the new database is in place; its head is not recorded yet
        release.wait(10)

    monkeypatch.setattr(cases, "save_database", save_then_hold)
    case.audit("case.note", case.id)
    saving = threading.Thread(target=case.save)
    saving.start()
    assert written.wait(10)
    monkeypatch.setattr(cases, "save_database", real_save_database)
    opened: list[object] = []

    def reopen():
        try:
            opened.append(open_case(world.bob, case.id))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            opened.append(exc)

    opening = threading.Thread(target=reopen)
    opening.start()
    opening.join(0.5)
    assert opening.is_alive() and not opened  # it waits for the save to finish
    release.set()
    saving.join(10)
    opening.join(10)
    [again] = opened
    assert isinstance(again, cases.Case), again
    assert again.verify_audit().valid
