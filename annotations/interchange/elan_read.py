"""Reading ELAN .eaf files (EAF 2.x to 3.0) as ELAN shows them.

Unaligned time slots get the times ELAN displays: spread evenly between the aligned slots
around them, along the chain of annotations that share them (a subdivision), else along the
file's time order. Each top-level tier's annotations become entries (one per annotation:
annotations on different tiers are never merged); dependent tiers (symbolic association
or subdivision, included-in, time subdivision) attach to their top-level ancestor as
translations, notes or extra codes. Tiers with a controlled vocabulary hold codes, and the
vocabularies are the file's scheme. What cannot be kept is listed per tier.
"""

from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

from ..errors import InterchangeError
from .imported import Entry, ImportedFile, Label
from .plan import LabelMap

OUR_MOMENT, OUR_CAPTION, OUR_NOTE, OUR_CODES, OUR_TRANSLATION = (
    "videofeedback-moment",
    "videofeedback-caption",
    "videofeedback-note",
    "videofeedback-codes",
    "videofeedback-translation",
)
LEGACY_MOMENT_TIER = "videofeedback moment"  # exports before per-coder tiers
LEGACY_CAPTION_TIER, LEGACY_NOTE_TIER = "Caption (for the parent)", "Practitioner note"
_POINT_MS = 1
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@dataclass
class _Annotation:
    id: str
    tier: str
    value: str
    slots: tuple[str, str] | None = None  # alignable
    ref: str = ""  # REF_ANNOTATION's parent
    previous: str = ""


@dataclass
class _Tier:
    id: str
    parent: str
    type_id: str
    participant: str
    annotator: str
    lang: str
    annotations: list[_Annotation] = field(default_factory=list)


@dataclass(frozen=True)
class _Type:
    constraint: str
    vocabulary: str


def parse_eaf(
    text: str, label_map: LabelMap | None = None, is_code: Callable[[str], bool] | None = None
) -> ImportedFile:
    """``is_code`` says whether a value is a code (of the case's codebook or the map): a
    top-level tier without a vocabulary whose every value is one holds codes, not captions."""
    root = _root(text)
    types = {
        t.get("LINGUISTIC_TYPE_ID", ""): _Type(
            t.get("CONSTRAINTS", ""), t.get("CONTROLLED_VOCABULARY_REF", "")
        )
        for t in root.iter("LINGUISTIC_TYPE")
    }
    tiers = [_tier(t) for t in root.iter("TIER")]
    result = ImportedFile("eaf")
    vocabularies = _vocabularies(root, result)
    times = _times(root, tiers, result)
    reader = _Reader(tiers, types, times, vocabularies, label_map or LabelMap(), result)
    reader.is_code = is_code or (lambda value: False)
    reader.read()
    for cv_id, values in vocabularies.items():
        for value in values:
            result.add_scheme(cv_id, value)
    _media_origin(root, result)
    return result


def _media_origin(root: ET.Element, result: ImportedFile) -> None:
    """ELAN's TIME_ORIGIN: where in the media file the document's time 0 lies. Moments are
    times in the recording, so the (first video's) origin is added to every time."""
    media = root.findall("HEADER/MEDIA_DESCRIPTOR")
    videos = [m for m in media if m.get("MIME_TYPE", "").startswith("video")] or media
    if not videos:
        return
    origin_text = videos[0].get("TIME_ORIGIN", "0").strip() or "0"
    if not origin_text.lstrip("-").isdigit() or int(origin_text) == 0:
        return
    origin = Fraction(int(origin_text), 1000)
    result.details["media time origin (s)"] = str(float(origin))
    result.entries[:] = [
        replace(e, start=e.start + origin, end=None if e.end is None else e.end + origin)
        for e in result.entries
    ]


def _root(text: str) -> ET.Element:
    try:
        root = ET.fromstring(_DECLARATION.sub("", text, count=1))
    except ET.ParseError as exc:
        raise InterchangeError(f"not an ELAN file ({exc})") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise InterchangeError(f"not an ELAN file (its root is <{root.tag}>)")
    units = root.find("HEADER")
    if units is not None and units.get("TIME_UNITS", "milliseconds") != "milliseconds":
        raise InterchangeError("an ELAN file in NTSC or PAL frames: save it in milliseconds")
    return root


def _tier(element: ET.Element) -> _Tier:
    tier = _Tier(
        element.get("TIER_ID", ""),
        element.get("PARENT_REF", ""),
        element.get("LINGUISTIC_TYPE_REF", ""),
        element.get("PARTICIPANT", ""),
        element.get("ANNOTATOR", ""),
        element.get("LANG_REF", "") or element.get("DEFAULT_LOCALE", ""),
    )
    for wrapper in element.iter("ANNOTATION"):
        for alignable in wrapper.iter("ALIGNABLE_ANNOTATION"):
            tier.annotations.append(
                _Annotation(
                    alignable.get("ANNOTATION_ID", ""),
                    tier.id,
                    alignable.findtext("ANNOTATION_VALUE") or "",
                    (alignable.get("TIME_SLOT_REF1", ""), alignable.get("TIME_SLOT_REF2", "")),
                )
            )
        for ref in wrapper.iter("REF_ANNOTATION"):
            tier.annotations.append(
                _Annotation(
                    ref.get("ANNOTATION_ID", ""),
                    tier.id,
                    ref.findtext("ANNOTATION_VALUE") or "",
                    ref=ref.get("ANNOTATION_REF", ""),
                    previous=ref.get("PREVIOUS_ANNOTATION", ""),
                )
            )
    return tier


def _vocabularies(root: ET.Element, result: ImportedFile) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for cv in root.iter("CONTROLLED_VOCABULARY"):
        values: list[str] = []
        other_languages: set[str] = set()
        for entry in cv:
            if entry.tag == "CV_ENTRY" and entry.text:
                values.append(entry.text.strip())
            elif entry.tag == "CV_ENTRY_ML":
                cve_values = entry.findall("CVE_VALUE")
                if cve_values and cve_values[0].text:
                    values.append(cve_values[0].text.strip())
                other_languages |= {v.get("LANG_REF", "") for v in cve_values[1:]}
        cv_id = cv.get("CV_ID", "")
        found[cv_id] = values
        if cv.get("EXT_REF") and not values:
            result.losses.append(
                f"vocabulary {cv_id}: its entries are in an external file, not read"
            )
        if other_languages - {""}:
            result.losses.append(
                f"vocabulary {cv_id}: values in other languages "
                f"({', '.join(sorted(other_languages - {''}))}) not kept; the first is"
            )
    return found


# --- times ------------------------------------------------------------------------------------


def _times(root: ET.Element, tiers: list[_Tier], result: ImportedFile) -> dict[str, Fraction]:
    """Every time slot's time in seconds: aligned ones as written, unaligned interpolated."""
    order: list[str] = []
    known: dict[str, Fraction] = {}
    for slot in root.iter("TIME_SLOT"):
        slot_id = slot.get("TIME_SLOT_ID", "")
        order.append(slot_id)
        value = slot.get("TIME_VALUE")
        if value is not None and value.strip().lstrip("-").isdigit():
            known[slot_id] = Fraction(int(value), 1000)
    times = dict(known)
    for chain in _chains(tiers):
        _interpolate(chain, known, times)
    _interpolate(order, known, times, fill_only=True)
    return times


def _chains(tiers: list[_Tier]) -> list[list[str]]:
    chains: list[list[str]] = []
    for tier in tiers:
        current: list[str] = []
        for annotation in tier.annotations:
            if annotation.slots is None:
                continue
            first, second = annotation.slots
            if current and current[-1] == first:
                current.append(second)
            else:
                if current:
                    chains.append(current)
                current = [first, second]
        if current:
            chains.append(current)
    return chains


def _interpolate(
    chain: list[str],
    known: dict[str, Fraction],
    times: dict[str, Fraction],
    fill_only: bool = False,
) -> None:
    anchors = [i for i, slot in enumerate(chain) if slot in known]
    for left, right in zip(anchors, anchors[1:], strict=False):
        gap = right - left
        if gap < 2:
            continue
        a, b = known[chain[left]], known[chain[right]]
        for step in range(1, gap):
            slot = chain[left + step]
            if fill_only and slot in times:
                continue
            times.setdefault(slot, a + (b - a) * step / gap)


# --- tiers to entries -----------------------------------------------------------------------


class _Reader:
    def __init__(
        self,
        tiers: list[_Tier],
        types: dict[str, _Type],
        times: dict[str, Fraction],
        vocabularies: dict[str, list[str]],
        label_map: LabelMap,
        result: ImportedFile,
    ) -> None:
        self.tiers = {t.id: t for t in tiers}
        self.order = tiers
        self.types, self.times, self.map, self.result = types, times, label_map, result
        self.vocabularies = vocabularies
        self.is_code: Callable[[str], bool] = lambda value: False
        self.indexes: dict[str, tuple[list[Fraction], list[tuple[Fraction, Fraction, str]]]] = {}
        self.by_id = {a.id: a for t in tiers for a in t.annotations}
        self.entries: dict[str, Entry] = {}  # top-level annotation id -> entry
        self.parts: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def read(self) -> None:
        legacy = self.tiers.get(LEGACY_MOMENT_TIER)
        for tier in self.order:
            if legacy is not None and not tier.parent and tier is not legacy:
                continue
            if not tier.parent:
                self._top_tier(tier)
        if legacy is not None:
            self._legacy_tiers(legacy)
        for tier in self.order:
            if tier.parent:
                self._dependent_tier(tier)
        for annotation_id, entry in self.entries.items():
            self.result.entries.append(self._finish(entry, self.parts.get(annotation_id, {})))
        self.result.entries.sort(key=lambda e: (e.start, e.where))

    def _legacy_tiers(self, legacy: _Tier) -> None:
        """Exports of videofeedback before per-coder tiers: the moment tier anchors each
        moment; category, caption and note tiers lie over the same span."""
        anchors = {self._span(a): a.id for a in legacy.annotations if self._span(a) is not None}
        roles = {LEGACY_CAPTION_TIER: "@caption", LEGACY_NOTE_TIER: "@note"}
        for tier in self.order:
            if tier.parent or tier is legacy:
                continue
            role = roles.get(tier.id, "@ids")
            for annotation in tier.annotations:
                anchor = anchors.get(self._span(annotation))
                if anchor is None:
                    self.result.losses.append(f"tier {tier.id}: an annotation off any moment")
                    continue
                key = ("@note" if role == "@note" else role, tier.id)
                self.parts[anchor][key].append(annotation.value)

    def _vocabulary(self, tier: _Tier) -> str:
        return self.types.get(tier.type_id, _Type("", "")).vocabulary

    def role(self, tier: _Tier) -> str:
        mapped = self.map.tier_role(tier.id)
        if mapped is not None:
            return mapped
        ours = {
            OUR_MOMENT: "@id",
            OUR_CAPTION: "@caption",
            OUR_NOTE: "@note",
            OUR_CODES: "@ids",
            OUR_TRANSLATION: "@translation:" + _bracketed(tier.id),
        }
        if tier.type_id in ours:
            return ours[tier.type_id]
        if tier.id == LEGACY_MOMENT_TIER:
            return "@id"
        if self._vocabulary(tier):
            return "@codes"
        if not tier.parent:
            values = [a.value.strip() for a in tier.annotations if a.value.strip()]
            coded = bool(values) and all(self.is_code(v) for v in values)
            return "@codes" if coded else "@caption"
        top = self._top_of(tier)
        looks_translated = any(
            word in f"{tier.id} {tier.type_id}".lower() for word in ("transl", "traduc", "übers")
        )
        if looks_translated or (
            tier.lang and top is not None and top.lang and tier.lang != top.lang
        ):
            return "@translation:" + (tier.lang or tier.id)
        return "@note"

    def _top_of(self, tier: _Tier) -> _Tier | None:
        seen: set[str] = set()
        while tier.parent and tier.parent in self.tiers and tier.id not in seen:
            seen.add(tier.id)
            tier = self.tiers[tier.parent]
        return None if tier.parent else tier

    def _span(self, annotation: _Annotation) -> tuple[Fraction, Fraction] | None:
        if annotation.slots is None:
            return None
        first, second = (self.times.get(s) for s in annotation.slots)
        if first is None or second is None:
            return None
        return first, second

    def _top_tier(self, tier: _Tier) -> None:
        role = self.role(tier)
        if role == "@skip":
            self.result.losses.append(
                f"tier {tier.id}: {len(tier.annotations)} annotations left out (the map says @skip)"
            )
            return
        untimed = 0
        for annotation in tier.annotations:
            span = self._span(annotation)
            if span is None:
                untimed += 1
                continue
            start, end = span
            ours = tier.type_id == OUR_MOMENT or tier.id == LEGACY_MOMENT_TIER
            point = end - start <= Fraction(_POINT_MS, 1000)
            labels = [] if ours else [Label("tier", tier.id, primary=False)]
            if tier.participant and not ours:
                labels.append(Label("participant", tier.participant, primary=False))
            self.entries[annotation.id] = Entry(
                start,
                None if point and ours else (None if end <= start else end),
                tuple(labels),
                coder=tier.annotator or tier.participant,
                where=f"tier {tier.id}",
            )
            self.parts[annotation.id][(role, tier.id)].append(annotation.value)
        if untimed:
            self.result.losses.append(f"tier {tier.id}: {untimed} annotations have no time")

    def _dependent_tier(self, tier: _Tier) -> None:
        role = self.role(tier)
        top = self._top_of(tier)
        if role == "@skip" or top is None:
            why = "the map says @skip" if role == "@skip" else "its parent tier is missing"
            self.result.losses.append(
                f"tier {tier.id}: {len(tier.annotations)} annotations left out ({why})"
            )
            return
        orphans = 0
        timed = 0
        for annotation in _in_order(tier.annotations):
            owner = self._owner(annotation, top)
            if owner is None:
                orphans += 1
                continue
            timed += annotation.slots is not None
            self.parts[owner][(role, tier.id)].append(annotation.value)
        constraint = self.types.get(tier.type_id, _Type("", "")).constraint
        if timed and constraint in ("Time_Subdivision", "Included_In", ""):
            self.result.losses.append(
                f"tier {tier.id}: the times of {timed} {constraint or 'time-aligned'} "
                "annotations (their values are kept in the parent's moment)"
            )
        if orphans:
            self.result.losses.append(
                f"tier {tier.id}: {orphans} annotations have no parent annotation, left out"
            )

    def _owner(self, annotation: _Annotation, top: _Tier) -> str | None:
        """The id of the top-level annotation this one hangs from."""
        seen: set[str] = set()
        current: _Annotation | None = annotation
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.id in self.entries:
                return current.id
            if current.ref:
                current = self.by_id.get(current.ref)
                continue
            return self._containing(current, top)
        return None

    def _containing(self, annotation: _Annotation, top: _Tier) -> str | None:
        span = self._span(annotation)
        if span is None:
            return None
        middle = (span[0] + span[1]) / 2
        starts, rows = self._index(top)
        position = bisect.bisect_right(starts, middle)
        for start, end, annotation_id in reversed(rows[max(0, position - 8) : position]):
            if start <= middle <= end:
                return annotation_id
        return None

    def _index(self, top: _Tier) -> tuple[list[Fraction], list[tuple[Fraction, Fraction, str]]]:
        """The top tier's moments sorted by start, for finding a dependent's parent by time."""
        if top.id not in self.indexes:
            rows = sorted(
                (e.start, e.end if e.end is not None else e.start, annotation_id)
                for annotation_id, e in self.entries.items()
                if e.where == f"tier {top.id}"
            )
            self.indexes[top.id] = ([r[0] for r in rows], rows)
        return self.indexes[top.id]

    def _finish(self, entry: Entry, parts: dict[tuple[str, str], list[str]]) -> Entry:
        captions: list[str] = []
        notes: list[str] = []
        translations: dict[str, list[str]] = defaultdict(list)
        labels = list(entry.labels)
        codes: list[str] = []
        source_id = ""
        for (role, tier_id), values in parts.items():
            tier = self.tiers[tier_id]
            joined = " ".join(v for v in values if v.strip())
            if role == "@id":
                source_id = values[0].strip() if values else ""
            elif role == "@caption":
                captions += [v for v in values if v.strip()]
            elif role == "@note":
                if joined:
                    ours = tier.type_id == OUR_NOTE or tier_id == LEGACY_NOTE_TIER
                    notes.append(joined if ours else f"{tier_id}: {joined}")
            elif role.startswith("@translation"):
                language = role.partition(":")[2] or tier_id
                if joined:
                    translations[language].append(joined)
            elif role == "@ids":
                codes += [c.strip() for v in values for c in v.split(";") if c.strip()]
            else:  # '@codes' or a label map's code: values are labels of the tier's scheme
                scheme = self._vocabulary(tier) or tier_id
                labels += [Label(scheme, v.strip()) for v in values if v.strip()]
        return replace(
            entry,
            labels=tuple(labels),
            codes=tuple(codes),
            caption="\n".join(captions),
            note="\n".join(notes),
            translations=tuple((k, " ".join(v)) for k, v in sorted(translations.items())),
            source_id=source_id,
        )


def _bracketed(text: str) -> str:
    match = re.search(r"\(([^()]+)\)\s*$", text)
    return match.group(1) if match else text


def _in_order(annotations: list[_Annotation]) -> list[_Annotation]:
    """Symbolic subdivisions in their PREVIOUS_ANNOTATION order (documents are usually so)."""
    if not any(a.previous for a in annotations):
        return annotations
    following = {a.previous: a for a in annotations if a.previous}
    ordered: list[_Annotation] = []
    placed: set[str] = set()
    for annotation in annotations:
        if annotation.previous or annotation.id in placed:
            continue
        current: _Annotation | None = annotation
        while current is not None and current.id not in placed:
            ordered.append(current)
            placed.add(current.id)
            current = following.get(current.id)
    ordered += [a for a in annotations if a.id not in placed]
    return ordered
