"""From what a reader found to moments: labels mapped to codes, times offset and checked
against the recording, and a report of what is imported, mapped, kept as text, skipped or
lost. Nothing is stored here; ``ImportPlan.require_ready`` says what stops the import."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from ..codebook import Code, Codebook, codebook_from_scheme
from ..errors import InterchangeError
from ..model import Annotations, Moment, new_id, now_iso
from ..timebase import format_clock, snap
from .imported import Entry, ImportedFile, Label

Outside = Literal["refuse", "clip", "skip"]
_OUR_ID = re.compile(r"^mo-[0-9a-z]+$")
#: targets in a map file that are not code ids (code ids never start with '@')
SKIP, AS_NOTE = "@skip", "@note"
TIER_ROLES = ("@codes", "@caption", "@note", "@translation", "@skip")


@dataclass(frozen=True)
class LabelMap:
    """A researcher's mapping: (tier, label) -> target, label -> target, tier -> target."""

    by_tier_label: dict[tuple[str, str], str] = field(default_factory=dict)
    by_label: dict[str, str] = field(default_factory=dict)
    by_tier: dict[str, str] = field(default_factory=dict)

    def target(self, label: Label) -> str | None:
        value = label.value.strip().casefold()
        scheme = label.scheme.strip().casefold()
        return (
            self.by_tier_label.get((scheme, value))
            or self.by_label.get(value)
            or self.by_tier.get(scheme)
            or (self.by_tier.get(value) if scheme == "tier" else None)
        )

    def tier_role(self, tier: str) -> str | None:
        """'@codes', '@caption', '@note', '@translation[:lang]' or '@skip' for an ELAN tier."""
        role = self.by_tier.get(tier.strip().casefold())
        if role is not None and role.split(":")[0] in TIER_ROLES:
            return role
        return None


def parse_label_map(text: str, name: str) -> LabelMap:
    """A CSV file with a header: 'label,code' and optionally 'tier' ('*' or empty label: the
    whole tier). Codes are code ids, or @skip / @note; for ELAN tiers also @codes, @caption,
    @translation[:LANG]."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "code" not in header or ("label" not in header and "tier" not in header):
        raise InterchangeError(
            f"{name}: a map needs a header row 'label,code' (and optionally 'tier')"
        )
    by_tier_label: dict[tuple[str, str], str] = {}
    by_label: dict[str, str] = {}
    by_tier: dict[str, str] = {}
    for row in reader:
        cells = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        label, tier, code = cells.get("label", ""), cells.get("tier", ""), cells.get("code", "")
        if not code:
            continue
        if tier and label in ("", "*"):
            by_tier[tier.casefold()] = code
        elif tier:
            by_tier_label[(tier.casefold(), label.casefold())] = code
        elif label:
            by_label[label.casefold()] = code
    return LabelMap(by_tier_label, by_label, by_tier)


@dataclass(frozen=True)
class ImportOptions:
    coder: str
    label_map: LabelMap = field(default_factory=LabelMap)
    keep_labels: bool = False
    new_codebook: str | None = None
    offset: Fraction = Fraction(0)
    outside: Outside = "refuse"


@dataclass
class ImportPlan:
    format: str
    moments: list[Moment]
    codebook: Codebook | None
    new_codebook: Codebook | None
    mapped: dict[str, str] = field(default_factory=dict)  # "scheme: label" -> code
    kept_as_text: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    skipped_by_map: Counter[str] = field(default_factory=Counter)
    outside: list[str] = field(default_factory=list)
    clipped: int = 0
    skipped_outside: int = 0
    losses: list[str] = field(default_factory=list)
    skipped_blocks: int = 0
    bad_map_codes: set[str] = field(default_factory=set)
    entries: int = 0
    details: dict[str, str] = field(default_factory=dict)  # e.g. BORIS's observation

    def problems(self, outside_policy: Outside) -> list[str]:
        found = []
        if self.bad_map_codes:
            found.append(
                "the map names codes not in the codebook: " + ", ".join(sorted(self.bad_map_codes))
            )
        if self.unmapped:
            shown = ", ".join(list(self.unmapped)[:8]) + (", …" if len(self.unmapped) > 8 else "")
            book = self.codebook.name if self.codebook else "the codebook"
            found.append(
                f"{len(self.unmapped)} labels are not codes of {book!r} ({shown}); map them with "
                "--map FILE (label,code), bring the file's scheme in with --new-codebook NAME, "
                "or keep them as text in the note with --keep-labels"
            )
        if self.outside and outside_policy == "refuse":
            found.append(
                f"{len(self.outside)} moments lie outside the recording ({self.outside[0]}"
                f"{', …' if len(self.outside) > 1 else ''}); shift them with --offset SECONDS, "
                "keep the part inside with --clip, or leave them out with --skip"
            )
        return found

    def require_ready(self, outside_policy: Outside) -> None:
        problems = self.problems(outside_policy)
        if problems:
            raise InterchangeError("; ".join(problems))

    def report(self, outside_policy: Outside) -> dict[str, Any]:
        return {
            "format": self.format,
            "entries": self.entries,
            "moments": len(self.moments),
            "mapped": dict(sorted(self.mapped.items())),
            "kept_as_text": dict(sorted(self.kept_as_text.items())),
            "unmapped": dict(sorted(self.unmapped.items())),
            "skipped_by_map": dict(sorted(self.skipped_by_map.items())),
            "outside_recording": len(self.outside),
            "outside_action": outside_policy,
            "clipped": self.clipped,
            "skipped_outside": self.skipped_outside,
            "skipped_blocks": self.skipped_blocks,
            "lost": list(self.losses),
            "details": dict(self.details),
            "new_codebook": None if self.new_codebook is None else self.new_codebook.to_dict(),
            "problems": self.problems(outside_policy),
        }


def plan_import(file: ImportedFile, into: Annotations, options: ImportOptions) -> ImportPlan:
    new_book = None
    if options.new_codebook is not None:
        new_book = codebook_from_scheme(options.new_codebook, _full_scheme(file))
    book = new_book or into.codebook
    plan = ImportPlan(file.format, [], book, new_book, losses=list(file.losses))
    plan.skipped_blocks, plan.entries = file.skipped_blocks, len(file.entries)
    plan.details = dict(file.details)
    resolver = _Resolver(book, new_book is not None, options, plan)
    ids: set[str] = set()
    for entry in file.entries:
        moment = _moment(entry, resolver, into, options, plan)
        if moment is None:
            continue
        if moment.id in ids:
            moment = replace(moment, id=new_id("mo"))
        ids.add(moment.id)
        plan.moments.append(moment)
    return plan


def _full_scheme(file: ImportedFile) -> dict[str, list[str]]:
    scheme = {k: list(v) for k, v in file.scheme.items()}
    for entry in file.entries:
        labels = [*entry.labels, *(Label("code", code) for code in entry.codes)]
        for label in labels:
            if label.value.strip():
                values = scheme.setdefault(label.scheme, [])
                if label.value not in values:
                    values.append(label.value)
    return scheme


class _Resolver:
    def __init__(
        self, book: Codebook | None, own: bool, options: ImportOptions, plan: ImportPlan
    ) -> None:
        self.book, self.own, self.options, self.plan = book, own, options, plan

    def code_for(self, label: Label) -> Code | str | None:
        """A code, '@note' (keep as text), '@skip', or None (unmapped)."""
        target = self.options.label_map.target(label)
        if target is not None and target.startswith("@") and target not in (SKIP, AS_NOTE):
            target = None  # a tier role (@caption, @codes, ...) is for the ELAN reader
        if target in (SKIP, AS_NOTE):
            return target
        if target is not None:
            if self.book is not None and target in {c.id for c in self.book.codes()}:
                return self.book.code(target)
            self.plan.bad_map_codes.add(target)
            return None
        if self.book is None:
            return None
        if not label.primary and not self.own:
            return None  # subjects, speakers, tier names: codes only when the map says so
        if self.own:  # a codebook made from this file: its category and label
            for category in self.book.categories:
                if category.label == label.scheme.strip():
                    return next((c for c in category.codes if c.label == label.value.strip()), None)
            return None
        return self.book.find(label.value)

    def resolve(self, entry: Entry) -> tuple[tuple[str, ...], list[str]]:
        codes: list[str] = []
        text: list[str] = []
        for label in entry.labels:
            if not label.value.strip():
                continue
            key = f"{label.scheme}: {label.value}"
            found = self.code_for(label)
            if isinstance(found, Code):
                codes.append(found.id)
                self.plan.mapped[key] = found.id
            elif found == SKIP:
                self.plan.skipped_by_map[key] += 1
            elif found == AS_NOTE or not label.primary or self.options.keep_labels:
                text.append(key)
                self.plan.kept_as_text[key] += 1
            else:
                self.plan.unmapped[key] += 1
        for code in entry.codes:
            if self.book is None or code in {c.id for c in self.book.codes()}:
                codes.append(code)
            else:
                inner, inner_text = self.resolve(
                    replace(entry, labels=(Label("code", code),), codes=())
                )
                codes += inner
                text += inner_text
        return tuple(dict.fromkeys(codes)), text


def _moment(
    entry: Entry, resolver: _Resolver, into: Annotations, options: ImportOptions, plan: ImportPlan
) -> Moment | None:
    codes, text = resolver.resolve(entry)
    start = snap(entry.start + options.offset, into.fps)
    end = None if entry.end is None else snap(entry.end + options.offset, into.fps)
    if end is not None and end <= start:  # shorter than a frame: one frame, not a point
        end = start + 1 / into.fps
    kept = _inside(start, end, into, options, plan, entry)
    if kept is None:
        return None
    start, end = kept
    note = "\n".join([*text, entry.note] if entry.note else text)
    now = now_iso()
    source = entry.source_id if _OUR_ID.match(entry.source_id or "") else ""
    return Moment(
        source or new_id("mo"),
        start,
        end,
        codes,
        entry.caption,
        note,
        options.coder or entry.coder,
        now,
        now,
        tuple(sorted(dict(entry.translations).items())),
    )


def _inside(
    start: Fraction,
    end: Fraction | None,
    into: Annotations,
    options: ImportOptions,
    plan: ImportPlan,
    entry: Entry,
) -> tuple[Fraction, Fraction | None] | None:
    last = end if end is not None else start
    limit = into.duration
    if start >= 0 and (limit is None or last <= limit):
        return start, end
    where = f"{entry.where}: " if entry.where else ""
    span = format_clock(abs(start)) if start >= 0 else "-" + format_clock(-start)
    plan.outside.append(f"{where}{span}–{format_clock(last) if last >= 0 else '-'}")
    if options.outside == "clip":
        new_start = max(start, Fraction(0))
        new_end = None if end is None else (end if limit is None else min(end, limit))
        if (limit is not None and new_start >= limit) or (
            new_end is not None and new_end <= new_start
        ):
            plan.skipped_outside += 1
            return None
        if end is None and start < 0:
            plan.skipped_outside += 1
            return None
        plan.clipped += 1
        return new_start, new_end
    if options.outside == "skip":
        plan.skipped_outside += 1
        return None
    return start, end  # refused by require_ready; kept for the dry-run report
