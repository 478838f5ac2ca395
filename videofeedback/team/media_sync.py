"""Recordings, stills and reels through the store: up in resumable parts, down in blocks,
ciphertext both ways, progress in bytes (docs/FORMAT.md §12.2)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from encryption import private_folder
from videofeedback.library.cases import Case
from videofeedback.library.local_state import LocalState

from .case_files import CaseReport
from .heads import CaseNames
from .store import S3Store

BLOCK = 8 * 1024 * 1024
Progress = Callable[[str, int, int], None]


class MediaTransfer:
    """Mixed into ``CaseSync``: what it needs of it, declared here."""

    case: Case
    names: CaseNames
    report: CaseReport
    progress: Progress | None

    @property
    def store(self) -> S3Store:
        raise NotImplementedError

    @property
    def local(self) -> LocalState:
        raise NotImplementedError

    def _media_rows(self) -> list[tuple[str, str]]:
        rows = self.case.db.execute("SELECT id, file FROM media ORDER BY id").fetchall()
        return [(str(i), str(f)) for i, f in rows]

    def _push_media(self) -> None:
        sent = set(self.local.sync_value(f"media:{self.case.id}", []))
        todo = [(i, f) for i, f in self._media_rows() if i not in sent]
        total = sum(
            (self.case.folder / f).stat().st_size
            for i, f in todo
            if (self.case.folder / f).exists()
        )
        done = 0
        for media_id, file in todo:
            path = self.case.folder / file
            if not path.exists():
                continue
            state = self.case.folder / "sync" / "uploads" / media_id
            private_folder(state.parent, parents=True)
            base = done

            def report(sent_now: int, _size: int, base: int = base) -> None:
                if self.progress:
                    self.progress("upload", base + sent_now, total)

            self.store.upload_file(self.names.media(media_id), path, state, report)
            done += path.stat().st_size
            self.report.bytes_up += path.stat().st_size
            self.report.pushed += 1
            sent.add(media_id)
            self.local.set_sync_value(f"media:{self.case.id}", sorted(sent))
        self._pull_media()

    def _pull_media(self) -> None:
        """Recordings, stills and reels the merged database names and this laptop lacks
        (ciphertext, as stored); progress in bytes."""
        found = []
        for media_id, file in self._media_rows():
            if not (self.case.folder / file).exists():
                info = self.store.head(self.names.media(media_id))
                if info is None:
                    self.report.pending_media += 1
                else:
                    found.append((info.name, info.size, self.case.folder / file))
        total, done = sum(size for _, size, _ in found), 0
        for name, size, target in found:
            done = self._download(name, size, target, done, total)

    def _download(self, name: str, size: int, target: Path, done: int, total: int) -> int:
        private_folder(target.parent, parents=True)
        temp = target.with_name(f".{target.name}.sync.tmp")
        with open(temp, "wb") as out:
            for start in range(0, size, BLOCK):
                out.write(self.store.get(name, start, min(size, start + BLOCK)))
                done += min(BLOCK, size - start)
                if self.progress:
                    self.progress("download", done, total)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        self.report.bytes_down += size
        self.report.pulled += 1
        return done
