"""What a reader found in a file, before it becomes moments: entries with labels, the file's
own scheme (ELAN vocabularies, a BORIS ethogram) and what the reader could not keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Label:
    """A value from another tool's scheme: ``scheme`` is the tier, vocabulary, behavioural
    category, 'Subject' or 'Modifier'; ``primary`` labels must become codes (or be kept by
    choice), secondary ones (subjects, modifiers, speakers) are kept as text when unmapped."""

    scheme: str
    value: str
    primary: bool = True


@dataclass(frozen=True)
class Entry:
    start: Fraction  # seconds in the file's own time (before any --offset)
    end: Fraction | None
    labels: tuple[Label, ...] = ()
    caption: str = ""
    note: str = ""
    translations: tuple[tuple[str, str], ...] = ()
    source_id: str = ""  # our own moment id, when the file came from videofeedback
    codes: tuple[str, ...] = ()  # code ids as such (our own exports)
    coder: str = ""
    where: str = ""  # tier or observation, for reports


@dataclass
class ImportedFile:
    format: str
    entries: list[Entry] = field(default_factory=list)
    #: the file's own scheme: category label -> its labels in order (ELAN CVs, BORIS ethogram)
    scheme: dict[str, list[str]] = field(default_factory=dict)
    #: what could not be kept, per tier or part of the file ("tier X: 3 annotations ...")
    losses: list[str] = field(default_factory=list)
    skipped_blocks: int = 0
    details: dict[str, str] = field(default_factory=dict)  # e.g. BORIS independent variables

    def add_scheme(self, category: str, label: str) -> None:
        labels = self.scheme.setdefault(category, [])
        if label not in labels:
            labels.append(label)
