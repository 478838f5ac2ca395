"""Recordings, stills and reels through the store: up in resumable parts, down in blocks,
ciphertext both ways, progress in bytes (docs/FORMAT.md §12.2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from encryption import private_folder
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError
from videofeedback.library.local_state import LocalState
from videofeedback.library.records import checked_media_file

from . import media_index
from .case_files import CaseReport
from .download import DownloadMismatchError, Wanted, download
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

    def _fail(self, text: str, rollback: bool = False) -> Exception:
        raise NotImplementedError

    def _media_rows(self) -> list[tuple[str, str]]:
        """The case's media files, each inside the case's ``media/`` folder: a row naming any
        other path (any member writes the database, and sync merges it) is left out, with a
        note, never read, uploaded or written (docs/FORMAT.md §10.6)."""
        rows = self.case.db.execute("SELECT id, file FROM media ORDER BY id").fetchall()
        checked = []
        for media_id, file in rows:
            try:
                checked.append((str(media_id), checked_media_file(media_id, file)))
            except LibraryError as exc:
                self.report.notes.append(str(exc))
        return checked

    def _stamp_media(self) -> None:
        """Record each finished media file's ciphertext SHA-256 and size in its record (a
        synced field, carried in the signed, encrypted change batches), so that a laptop that
        downloads it can tell it from another recording of the case or a truncated copy the
        store serves under its name. A recording still being made is stamped when sealed."""
        infos = self._infos()
        for media_id, file in self._media_rows():
            path = self.case.folder / file
            info = json.loads(infos.get(media_id) or "{}")
            if "sha256" in info or info.get("state") == "recording" or not path.exists():
                continue
            info.update(media_index.stamp(path, self.case.recipients, self._sealed(media_id)))
            self.case.db.execute(
                "UPDATE media SET info = ? WHERE id = ?", (json.dumps(info), media_id)
            )

    def _infos(self) -> dict[str, str]:
        """Each media record's ``info`` text, in one query (parsed where it is used)."""
        return {str(i): text for i, text in self.case.db.execute("SELECT id, info FROM media")}

    @staticmethod
    def _stamp(text: str | None) -> tuple[str, int] | None:
        """The ciphertext SHA-256 and size an ``info`` text names (None: not stamped)."""
        info = json.loads(text or "{}")
        if "sha256" not in info:
            return None
        return str(info["sha256"]), int(info.get("bytes", -1))

    def _sealed(self, media_id: str) -> Path:
        return media_index.sealed_path(self.case.folder, media_id)

    def _push_media(self) -> None:
        sent = set(self.local.sync_value(f"media:{self.case.id}", []))
        # only what is stamped goes up: the object must be the bytes its record names
        infos = self._infos()
        todo = [
            (i, f) for i, f in self._media_rows() if i not in sent and self._stamp(infos.get(i))
        ]
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

            index = self.names.index(media_id)
            media_index.push(self.store, index, self._sealed(media_id), [self.case.identity])
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
        found, infos = [], self._infos()
        for media_id, file in self._media_rows():
            stamp = self._stamp(infos.get(media_id))
            if not (self.case.folder / file).exists():
                info = self.store.head(self.names.media(media_id))
                if info is None or stamp is None:  # not there yet, or nothing to check it by
                    self.report.pending_media += 1
                elif info.size != stamp[1]:
                    raise self._fail(
                        f"the store serves media {media_id} with {info.size} bytes where its "
                        f"record says {stamp[1]} (cut short or replaced); nothing was kept"
                    )
                else:
                    found.append((media_id, info.size, self.case.folder / file, stamp[0]))
        total, done = sum(size for _, size, _, _ in found), 0
        for media_id, size, target, sha256 in found:
            done = self._download(self.names.media(media_id), size, target, done, total, sha256)
            # it is in the store already: never sent back (a full upload, refused at the end)
            key = f"media:{self.case.id}"
            sent = set(self.local.sync_value(key, []))
            self.local.set_sync_value(key, sorted(sent | {media_id}))

    def _download(
        self, name: str, size: int, target: Path, done: int, total: int, sha256: str
    ) -> int:
        """One object down (several ranged GETs at once, resumable: ``download.py``)."""
        state = self.case.folder / "sync" / "downloads" / name.rsplit("/", 1)[-1]

        def report(now: int) -> None:
            if self.progress:
                self.progress("download", done + now, total)

        try:
            download(self.store, Wanted(name, size, sha256), target, state, report)
        except DownloadMismatchError:
            raise self._fail(
                f"the store serves other bytes as media {target.name.split('.')[0]} (another "
                "recording, or altered): its hash is not the one its record names; nothing "
                "was kept"
            ) from None
        self.report.bytes_down += size
        self.report.pulled += 1
        return done + size
