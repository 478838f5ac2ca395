"""The reel being put together, out of the widgets: which moments and stills in which order,
each one's caption, hold and slow motion, and the title card. Every change is an event
(``draft.events.order``, ``.edits``, ``.title``) and can be undone and redone. No Qt: the
reel view takes this model and shows it; tested headless."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from .errors import AnnotationError
from .events import Emitter
from .model import Annotations
from .reel import ReelPlan, TitleCard, plan_from, with_item


@dataclass(frozen=True)
class ItemEdits:
    caption: str
    hold: Fraction = Fraction(0)
    slow: Fraction = Fraction(1)


@dataclass(frozen=True)
class Title:
    text: str = ""
    subtitle: str = ""


@dataclass(frozen=True)
class _Snapshot:
    order: tuple[str, ...]
    edits: tuple[tuple[str, ItemEdits], ...]
    title: Title


@dataclass
class DraftEvents:
    order: Emitter[tuple[str, ...]] = field(default_factory=Emitter)
    edits: Emitter[str] = field(default_factory=Emitter)  # the ref whose edits changed
    title: Emitter[Title] = field(default_factory=Emitter)


class ReelDraft:
    """A reel in the making for one recording's annotations."""

    def __init__(self, annotations: Annotations, captions: dict[str, str]) -> None:
        """``captions``: each moment's and still's caption as the reel starts it (in the
        family's language)."""
        self.annotations = annotations
        self.events = DraftEvents()
        self._order: tuple[str, ...] = ()
        self._edits = {ref: ItemEdits(caption) for ref, caption in captions.items()}
        self._title = Title()
        self._undo: list[tuple[str, _Snapshot]] = []
        self._redo: list[tuple[str, _Snapshot]] = []

    # --- reading -------------------------------------------------------------------------

    @property
    def order(self) -> tuple[str, ...]:
        return self._order

    @property
    def title(self) -> Title:
        return self._title

    def edits(self, ref: str) -> ItemEdits:
        return self._edits[ref]

    def available(self) -> list[str]:
        return list(self._edits)

    def state(self) -> dict[str, Any]:
        """The order, edits and title as JSON (stored with a rendered reel, so the builder
        reopens on it after a restart)."""
        return {
            "recording": self.annotations.media_id,
            "order": list(self._order),
            "edits": {
                ref: {"caption": e.caption, "hold": str(e.hold), "slow": str(e.slow)}
                for ref, e in self._edits.items()
                if ref in self._order
            },
            "title": {"text": self._title.text, "subtitle": self._title.subtitle},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a stored state (one undoable step); items whose moment or still is gone
        are left out, edits of items still there are kept."""
        order = tuple(ref for ref in state.get("order", []) if ref in self._edits)
        edits = dict(self._edits)
        for ref, edit in state.get("edits", {}).items():
            if ref in edits:
                edits[ref] = ItemEdits(
                    str(edit.get("caption", "")),
                    Fraction(str(edit.get("hold", "0"))),
                    Fraction(str(edit.get("slow", "1"))),
                )
        title = state.get("title", {})
        stored = Title(str(title.get("text", "")), str(title.get("subtitle", "")))
        self._undo.append(("open the stored reel", self._snapshot()))
        self._redo.clear()
        self._restore(_Snapshot(order, tuple(edits.items()), stored))

    def plan(self, language: str = "") -> ReelPlan:
        """The reel as the core renders it."""
        title = TitleCard(self._title.text, self._title.subtitle) if self._title.text else None
        plan = plan_from(self.annotations, list(self._order), title)
        for index, ref in enumerate(self._order):
            edits = self._edits[ref]
            hold = edits.hold
            if plan.items[index].kind == "still":
                hold = edits.hold or plan.items[index].hold
            plan = with_item(plan, index, caption=edits.caption, slow=edits.slow, hold=hold)
        return replace(plan, language=language)

    # --- changing (each change undoable) -------------------------------------------------

    def add(self, refs: list[str]) -> None:
        unknown = [ref for ref in refs if ref not in self._edits]
        if unknown:
            raise AnnotationError(f"nothing called {', '.join(unknown)} can go in this reel")
        if refs:
            self._change("add to the reel", order=self._order + tuple(refs))

    def remove(self, index: int) -> None:
        if 0 <= index < len(self._order):
            order = self._order[:index] + self._order[index + 1 :]
            self._change("remove from the reel", order=order)

    def move(self, index: int, step: int) -> bool:
        """Move the item at ``index`` by ``step`` places; False if it cannot go there."""
        target = index + step
        if not (0 <= index < len(self._order) and 0 <= target < len(self._order)):
            return False
        order = list(self._order)
        order.insert(target, order.pop(index))
        self._change("move in the reel", order=tuple(order))
        return True

    def reorder(self, order: list[str]) -> None:
        """A new order, as dragged in the list (items dropped in from outside included)."""
        unknown = [ref for ref in order if ref not in self._edits]
        if unknown:
            raise AnnotationError(f"nothing called {', '.join(unknown)} can go in this reel")
        if tuple(order) != self._order:
            self._change("reorder the reel", order=tuple(order))

    def edit(self, ref: str, edits: ItemEdits) -> None:
        if ref not in self._edits:
            raise AnnotationError(f"there is no {ref} in this reel")
        if edits.hold < 0 or not 1 <= edits.slow:
            raise AnnotationError("a hold is 0 s or more, slow motion 1× or more")
        if edits != self._edits[ref]:
            self._change("edit an item", edited=(ref, edits))

    def set_title(self, text: str, subtitle: str = "") -> None:
        title = Title(text.strip(), subtitle.strip())
        if title != self._title:
            self._change("change the title", title=title)

    # --- undo ----------------------------------------------------------------------------

    def clear_history(self) -> None:
        """Nothing to undo or redo (a reel just opened)."""
        self._undo.clear()
        self._redo.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> str | None:
        """Undo the last change; returns what it was (None if nothing)."""
        if not self._undo:
            return None
        description, before = self._undo.pop()
        self._redo.append((description, self._snapshot()))
        self._restore(before)
        return description

    def redo(self) -> str | None:
        if not self._redo:
            return None
        description, after = self._redo.pop()
        self._undo.append((description, self._snapshot()))
        self._restore(after)
        return description

    # --- inside --------------------------------------------------------------------------

    def _change(
        self,
        description: str,
        order: tuple[str, ...] | None = None,
        edited: tuple[str, ItemEdits] | None = None,
        title: Title | None = None,
    ) -> None:
        typing_on = title is not None and self._undo and self._undo[-1][0] == description
        if not typing_on:  # a title typed letter by letter is one step to undo
            self._undo.append((description, self._snapshot()))
        self._redo.clear()
        if order is not None:
            self._order = order
            self.events.order.emit(order)
        if edited is not None:
            self._edits[edited[0]] = edited[1]
            self.events.edits.emit(edited[0])
        if title is not None:
            self._title = title
            self.events.title.emit(title)

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(self._order, tuple(self._edits.items()), self._title)

    def _restore(self, snapshot: _Snapshot) -> None:
        changed_edits = [ref for ref, e in snapshot.edits if self._edits.get(ref) != e]
        if snapshot.order != self._order:
            self._order = snapshot.order
            self.events.order.emit(self._order)
        self._edits = dict(snapshot.edits)
        for ref in changed_edits:
            self.events.edits.emit(ref)
        if snapshot.title != self._title:
            self._title = snapshot.title
            self.events.title.emit(self._title)
