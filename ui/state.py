"""Who is working in which library and case. Views subscribe to its signals; when it locks,
every view drops what it shows of a case."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from videofeedback.demo import is_demo, passphrases
from videofeedback.exports import sweep_unfinished_exports
from videofeedback.library.cases import Case, open_case
from videofeedback.library.library import Library, UserSession


class AppState(QObject):
    library_changed = Signal()
    unlocked = Signal()
    locked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library: Library | None = None
        self.user: UserSession | None = None
        self.swept_exports: list[str] = []  # unfinished plaintext exports removed at unlock

    # --- the library ---------------------------------------------------------------------

    def open_library(self, folder: Path) -> None:
        library = Library.open(folder)  # raises a one-line error if it is not a library
        self.close_library()
        self.library = library
        self.library_changed.emit()

    def close_library(self) -> None:
        self.lock()
        if self.library is not None:
            self.library.close()
            self.library = None

    def user_names(self) -> list[str]:
        if self.library is None:
            return []
        return sorted(n for n, u in self.library.manifest.users.items() if not u.removed)

    def demo_passphrases(self) -> dict[str, str]:
        """The demo library's passphrases (it holds no personal data), else nothing."""
        if self.library is None or not is_demo(self.library.folder):
            return {}
        return passphrases()

    def idle_lock_minutes(self) -> int:
        return self.library.manifest.settings.idle_lock_minutes if self.library else 10

    # --- the user ------------------------------------------------------------------------

    def unlock(self, name: str, passphrase: str) -> UserSession:
        """Slow on purpose (scrypt): run it as a job, then call ``set_user``."""
        if self.library is None:
            raise RuntimeError("choose a library first")
        session = self.library.unlock(name, passphrase)
        self.swept_exports = sweep_unfinished_exports(session)
        return session

    def set_user(self, user: UserSession) -> None:
        self.user = user
        self.unlocked.emit()

    def lock(self) -> None:
        if self.user is not None:
            self.user = None
            self.locked.emit()

    def open_case(self, case_id: str) -> Case:
        if self.user is None:
            raise RuntimeError("unlock first")
        return open_case(self.user, case_id)
