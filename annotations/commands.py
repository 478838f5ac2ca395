"""Every edit is a command with do/undo, kept on an unlimited undo stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

from .errors import AnnotationError
from .model import Annotations, Moment, Still, new_id, now_iso, stamped


class Command(Protocol):
    description: str

    def do(self, model: Annotations) -> None: ...

    def undo(self, model: Annotations) -> None: ...


@dataclass
class AddMoment:
    moment: Moment
    index: int | None = None
    description: str = "add moment"

    def do(self, model: Annotations) -> None:
        model.insert_moment(self.moment, self.index)

    def undo(self, model: Annotations) -> None:
        model.remove_moment(self.moment.id)


@dataclass
class DeleteMoment:
    moment_id: str
    description: str = "delete moment"
    _removed: tuple[Moment, int] | None = None

    def do(self, model: Annotations) -> None:
        self._removed = model.remove_moment(self.moment_id)

    def undo(self, model: Annotations) -> None:
        assert self._removed is not None
        model.insert_moment(*self._removed)


@dataclass
class ReplaceMoment:
    """Any change to one moment's fields: move, trim, recode, caption, note."""

    new: Moment
    description: str
    _old: Moment | None = None

    def do(self, model: Annotations) -> None:
        self._old = model.replace_moment(self.new)

    def undo(self, model: Annotations) -> None:
        assert self._old is not None
        model.replace_moment(self._old)


@dataclass
class ReorderMoment:
    moment_id: str
    new_index: int
    description: str = "reorder moments"
    _old_index: int | None = None

    def do(self, model: Annotations) -> None:
        self._old_index = model.move_moment(self.moment_id, self.new_index)

    def undo(self, model: Annotations) -> None:
        assert self._old_index is not None
        model.move_moment(self.moment_id, self._old_index)


@dataclass
class AddStill:
    still: Still
    description: str = "take still"

    def do(self, model: Annotations) -> None:
        model.insert_still(self.still)

    def undo(self, model: Annotations) -> None:
        model.remove_still(self.still.id)


@dataclass
class DeleteStill:
    still_id: str
    description: str = "delete still"
    _removed: Still | None = None

    def do(self, model: Annotations) -> None:
        self._removed = model.remove_still(self.still_id)

    def undo(self, model: Annotations) -> None:
        assert self._removed is not None
        model.insert_still(self._removed)


@dataclass
class ReplaceStill:
    new: Still
    description: str = "caption still"
    _old: Still | None = None

    def do(self, model: Annotations) -> None:
        self._old = model.replace_still(self.new)

    def undo(self, model: Annotations) -> None:
        assert self._old is not None
        model.replace_still(self._old)


@dataclass
class UndoStack:
    """Unlimited undo and redo. A new command after undos discards the redo history."""

    model: Annotations
    _done: list[Command] = field(default_factory=list)
    _undone: list[Command] = field(default_factory=list)
    on_change: Callable[[], None] | None = None

    def push(self, command: Command) -> None:
        command.do(self.model)  # raises before anything is recorded if the edit is invalid
        self._done.append(command)
        self._undone.clear()
        self._changed()

    def undo(self) -> str | None:
        if not self._done:
            return None
        command = self._done.pop()
        command.undo(self.model)
        self._undone.append(command)
        self._changed()
        return command.description

    def redo(self) -> str | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        command.do(self.model)
        self._done.append(command)
        self._changed()
        return command.description

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


class Editor:
    """The edits a person makes, each one command on the undo stack."""

    def __init__(self, model: Annotations, coder: str) -> None:
        self.model = model
        self.coder = coder
        self.stack = UndoStack(model)

    def add_moment(
        self,
        start: Fraction,
        end: Fraction | None,
        codes: tuple[str, ...] = (),
        caption: str = "",
        note: str = "",
    ) -> Moment:
        now = now_iso()
        moment = Moment(new_id("mo"), start, end, tuple(codes), caption, note, self.coder, now, now)
        self.stack.push(AddMoment(moment))
        return moment

    def _replace(self, moment_id: str, description: str, **changes: object) -> Moment:
        new = stamped(self.model.moment(moment_id), **changes)
        self.stack.push(ReplaceMoment(new, description))
        return new

    def move(self, moment_id: str, start: Fraction) -> Moment:
        """Shift the moment to start at ``start``, keeping its length."""
        moment = self.model.moment(moment_id)
        end = None if moment.end is None else start + (moment.end - moment.start)
        return self._replace(moment_id, "move moment", start=start, end=end)

    def trim(self, moment_id: str, start: Fraction, end: Fraction | None) -> Moment:
        return self._replace(moment_id, "trim moment", start=start, end=end)

    def recode(self, moment_id: str, codes: tuple[str, ...]) -> Moment:
        return self._replace(moment_id, "change codes", codes=tuple(codes))

    def toggle_code(self, moment_id: str, code: str) -> Moment:
        codes = self.model.moment(moment_id).codes
        return self.recode(
            moment_id, tuple(c for c in codes if c != code) if code in codes else (*codes, code)
        )

    def caption(self, moment_id: str, text: str) -> Moment:
        return self._replace(moment_id, "edit caption", caption=text)

    def translate(self, moment_id: str, language: str, text: str) -> Moment:
        """The caption in the family's language (empty text removes the translation)."""
        others = [t for t in self.model.moment(moment_id).translations if t[0] != language]
        translations = tuple(sorted(others + ([(language, text)] if text else [])))
        return self._replace(moment_id, "translate caption", translations=translations)

    def note(self, moment_id: str, text: str) -> Moment:
        return self._replace(moment_id, "edit note", note=text)

    def delete(self, moment_id: str) -> None:
        self.stack.push(DeleteMoment(moment_id))

    def reorder(self, moment_id: str, new_index: int) -> None:
        self.stack.push(ReorderMoment(moment_id, new_index))

    def add_still(self, time: Fraction, caption: str = "") -> Still:
        still = Still(new_id("st"), time, caption, self.coder, now_iso())
        self.stack.push(AddStill(still))
        return still

    def caption_still(self, still_id: str, text: str) -> Still:
        old = self.model.still(still_id)
        new = Still(old.id, old.time, text, old.coder, old.created)
        self.stack.push(ReplaceStill(new))
        return new

    def delete_still(self, still_id: str) -> None:
        self.stack.push(DeleteStill(still_id))

    def undo(self) -> str | None:
        return self.stack.undo()

    def redo(self) -> str | None:
        return self.stack.redo()


def require_own(moment: Moment, coder: str) -> None:
    """For roles that may only change their own coding (a supervisor's own coding)."""
    if moment.coder != coder:
        raise AnnotationError(
            f"moment {moment.id} was coded by {moment.coder}; only they can change it"
        )
