"""Recordings' annotations inside a case: load, change under role rules, save, codebooks."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from fractions import Fraction

from annotations import Annotations, Codebook, Editor, builtin_codebook
from annotations.codebook import BUILTIN
from annotations.commands import require_own
from vferrors import VideofeedbackError

from .case_db import get_meta, set_meta
from .cases import Case
from .errors import LibraryError, PermissionDeniedError
from .library import Library, UserSession
from .manifest import write_manifest
from .roles import Action, Role

# --- codebooks --------------------------------------------------------------------------------


def codebooks(library: Library) -> dict[str, Codebook]:
    """The built-in codebooks and the library's own (kept in the manifest: no personal data),
    with the library's reflective prompts where it rewrote them."""
    found = {name: builtin_codebook(name) for name in BUILTIN}
    for data in library.manifest.codebooks.values():
        book = Codebook.from_dict(data)
        found[book.id] = book
    for book_id, prompts in library.manifest.prompts.items():
        if book_id in found:
            found[book_id] = with_prompts(found[book_id], prompts)
    return found


def with_prompts(book: Codebook, prompts: dict[str, str]) -> Codebook:
    categories = tuple(replace(c, prompt=prompts.get(c.id, c.prompt)) for c in book.categories)
    return Codebook(book.id, book.name, categories, book.version)


def set_prompts(library: Library, by: UserSession, book_id: str, prompts: dict[str, str]) -> None:
    """Rewrite a codebook's reflective prompts (per category) for the whole library."""
    if by.role not in (Role.PRACTITIONER, Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDeniedError(f"a {by.role.value} may not change reflective prompts")
    book = codebooks(library).get(book_id)
    if book is None:
        raise LibraryError(f"there is no codebook {book_id!r}")
    unknown = set(prompts) - {c.id for c in book.categories}
    if unknown:
        raise LibraryError(f"{book.name} has no categories {', '.join(sorted(unknown))}")
    library.manifest.prompts.setdefault(book_id, {}).update(prompts)
    write_manifest(library.folder, library.manifest)
    by.audit("codebook.prompts", book_id)


def add_codebook(library: Library, by: UserSession, book: Codebook) -> None:
    if by.role not in (Role.PRACTITIONER, Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDeniedError(f"a {by.role.value} may not add codebooks")
    if book.id in BUILTIN:
        raise PermissionDeniedError(f"{book.id!r} is a built-in codebook; give yours another id")
    library.manifest.codebooks[book.id] = book.to_dict()
    write_manifest(library.folder, library.manifest)
    by.audit("codebook.add", book.id)


def case_codebook(case: Case) -> Codebook:
    books = codebooks(case.session.library)
    return books.get(get_meta(case.db, "codebook", "vig"), books["vig"])


def set_case_codebook(case: Case, book_id: str) -> Codebook:
    """Code the case's recordings with another codebook. Refused while any moment holds a
    code the new codebook lacks, so no stored coding is orphaned."""
    case.require(Action.ANNOTATE)
    books = codebooks(case.session.library)
    if book_id not in books:
        raise LibraryError(
            f"there is no codebook {book_id!r}; see 'videofeedback codebook list' or add one"
        )
    book = books[book_id]
    require_no_orphans(case, book)
    set_meta(case.db, "codebook", book.id)
    case.audit("case.codebook", book.id)
    return book


def require_no_orphans(case: Case, book: Codebook) -> None:
    """Refuse if any of the case's moments holds a code ``book`` lacks."""
    known = {c.id for c in book.codes()}
    orphaned: set[str] = set()
    for (data,) in case.db.execute("SELECT data FROM annotations"):
        for moment in json.loads(data).get("moments", []):
            orphaned |= set(moment.get("codes", [])) - known
    if orphaned:
        raise LibraryError(
            f"the case's moments use codes {book.name!r} lacks ("
            + ", ".join(sorted(orphaned)[:8])
            + "); recode them first, or add those codes to the codebook"
        )


# --- annotations ------------------------------------------------------------------------------


@dataclass
class AnnotationSession:
    """One recording's annotations, opened for the acting user."""

    case: Case
    annotations: Annotations
    editor: Editor

    def require_change(self, moment_id: str | None = None) -> None:
        """Practitioners change any coding; supervisors only their own (for agreement)."""
        role = self.case.session.role
        if role == Role.SUPERVISOR:
            if moment_id is not None:
                require_own(self.annotations.moment(moment_id), self.case.session.name)
            return
        self.case.require(Action.ANNOTATE)

    def may_edit(self, moment_id: str) -> bool:
        """Whether the acting user may change this moment (the view shows it read-only if not):
        a supervisor changes only their own coding, the practitioner's is read-only to them."""
        try:
            self.require_change(moment_id)
        except VideofeedbackError:
            return False
        return True

    def require_import(self, coder: str) -> None:
        """A supervisor imports only their own coding; a practitioner anyone's."""
        if self.case.session.role == Role.SUPERVISOR and coder != self.case.session.name:
            raise PermissionDeniedError("a supervisor may import only their own coding")
        self.require_change()

    def snapshot(self) -> str:
        """The annotations as stored (JSON), taken now."""
        return json.dumps(self.annotations.to_dict())

    def save(self) -> None:
        store_annotations(self.case, self.annotations.media_id, self.snapshot())
        self.case.save()


def for_export(work: AnnotationSession, include_private_notes: bool = False) -> Annotations:
    """The annotations as a (plaintext) export may hold them: the role must allow exports;
    private notes are left out unless asked for, by a role allowed to export them."""
    work.case.require(Action.EXPORT_ANNOTATIONS)
    if include_private_notes:
        work.case.require(Action.EXPORT_PRIVATE_NOTES)
        return work.annotations
    return without_private_notes(work.annotations)


def without_private_notes(annotations: Annotations) -> Annotations:
    """A copy with every moment's private note emptied (the stored annotations are untouched)."""
    return Annotations(
        annotations.media_id,
        annotations.fps,
        annotations.duration,
        annotations.codebook,
        [replace(m, note="") for m in annotations.moments],
        list(annotations.stills),
    )


def store_annotations(case: Case, media_id: str, data: str) -> None:
    """Put a recording's annotations (JSON) in the database; ``case.save()`` saves them."""
    case.db.execute("INSERT OR REPLACE INTO annotations VALUES (?, ?)", (media_id, data))


def open_annotations(case: Case, media_id: str) -> AnnotationSession:
    record = case.media.get(media_id)
    fps, duration = record.fps or Fraction(30), record.duration
    row = case.db.execute("SELECT data FROM annotations WHERE media_id = ?", (media_id,)).fetchone()
    codebook = case_codebook(case)
    if row:
        annotations = Annotations.from_dict(json.loads(row[0]), codebook)
        annotations.duration = duration or annotations.duration
    else:
        annotations = Annotations(media_id, fps, duration, codebook)
    case.audit("annotations.open", media_id)
    return AnnotationSession(case, annotations, Editor(annotations, case.session.name))
