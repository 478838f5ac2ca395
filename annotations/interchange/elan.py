"""ELAN .eaf (EAF 3.0) writing, in ELAN's usual layout; reading is in ``elan_read``.

Per coder, a top-level tier "<coder> moments" holds one annotation per moment (value: the
moment id); its dependents, Symbolic_Association tiers, hold the codes of each codebook
category ("<coder> <category>", code ids '; '-separated), the caption, translations
("<coder> caption (pl)") and, if asked, the note. A coder whose moments overlap gets more
lanes ("<coder> moments 2", ...), since annotations on one ELAN tier do not overlap. Tiers
name the coder in PARTICIPANT and ANNOTATOR; the header names the codebook. Point moments
last one millisecond, since ELAN has no points.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from fractions import Fraction

from ..codebook import Codebook
from ..model import Annotations, Moment, now_iso
from .elan_read import OUR_CAPTION, OUR_CODES, OUR_MOMENT, OUR_NOTE, OUR_TRANSLATION

OTHER_CODES = "other codes"
_POINT_MS = 1
_ASSOCIATION = "Symbolic_Association"


def _ms(time: Fraction) -> int:
    return round(time * 1000)


def _span_ms(moment: Moment) -> tuple[int, int]:
    start = _ms(moment.start)
    return start, start + _POINT_MS if moment.end is None else _ms(moment.end)


def lanes(moments: list[Moment]) -> list[list[Moment]]:
    """Moments (in time order) in as few lanes as possible with no overlap in a lane."""
    result: list[list[Moment]] = []
    for moment in sorted(moments, key=lambda m: (_span_ms(m), m.id)):
        start, _ = _span_ms(moment)
        for lane in result:
            if _span_ms(lane[-1])[1] <= start:
                lane.append(moment)
                break
        else:
            result.append([moment])
    return result


class _Writer:
    def __init__(self, root: ET.Element, time_order: ET.Element) -> None:
        self.root, self.time_order = root, time_order
        self.slot = 0
        self.annotation = 0

    def new_slot(self, ms: int) -> str:
        self.slot += 1
        slot_id = f"ts{self.slot}"
        ET.SubElement(
            self.time_order, "TIME_SLOT", {"TIME_SLOT_ID": slot_id, "TIME_VALUE": str(ms)}
        )
        return slot_id

    def new_id(self) -> str:
        self.annotation += 1
        return f"a{self.annotation}"

    def tier(self, tier_id: str, type_id: str, coder: str, parent: str = "") -> ET.Element:
        attributes = {"LINGUISTIC_TYPE_REF": type_id, "TIER_ID": tier_id}
        if parent:
            attributes["PARENT_REF"] = parent
        if coder:
            attributes["ANNOTATOR"] = coder
            attributes["PARTICIPANT"] = coder
        return ET.SubElement(self.root, "TIER", attributes)

    def alignable(self, tier: ET.Element, moment: Moment) -> str:
        start, end = _span_ms(moment)
        annotation_id = self.new_id()
        wrapper = ET.SubElement(tier, "ANNOTATION")
        element = ET.SubElement(
            wrapper,
            "ALIGNABLE_ANNOTATION",
            {
                "ANNOTATION_ID": annotation_id,
                "TIME_SLOT_REF1": self.new_slot(start),
                "TIME_SLOT_REF2": self.new_slot(end),
            },
        )
        ET.SubElement(element, "ANNOTATION_VALUE").text = moment.id
        return annotation_id

    def reference(self, tier: ET.Element, parent_id: str, value: str) -> None:
        wrapper = ET.SubElement(tier, "ANNOTATION")
        element = ET.SubElement(
            wrapper, "REF_ANNOTATION", {"ANNOTATION_ID": self.new_id(), "ANNOTATION_REF": parent_id}
        )
        ET.SubElement(element, "ANNOTATION_VALUE").text = value


def to_eaf_text(annotations: Annotations, include_notes: bool = False) -> str:
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": "videofeedback",
            "DATE": now_iso(),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    ET.SubElement(header, "PROPERTY", {"NAME": "videofeedback:media"}).text = annotations.media_id
    book = annotations.codebook
    if book is not None:
        ET.SubElement(header, "PROPERTY", {"NAME": "videofeedback:codebook"}).text = book.id
    writer = _Writer(root, ET.SubElement(root, "TIME_ORDER"))
    by_coder: dict[str, list[Moment]] = defaultdict(list)
    for moment in annotations.moments:
        by_coder[moment.coder].append(moment)
    for coder in sorted(by_coder):
        for number, lane in enumerate(lanes(by_coder[coder]), start=1):
            _write_lane(writer, coder, number, lane, book, include_notes)
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(
        writer.annotation
    )
    _types_and_constraints(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write_lane(
    writer: _Writer,
    coder: str,
    number: int,
    lane: list[Moment],
    book: Codebook | None,
    include_notes: bool,
) -> None:
    who = coder or "uncoded"
    suffix = "" if number == 1 else f" {number}"
    parent_name = f"{who} moments{suffix}"
    parent = writer.tier(parent_name, OUR_MOMENT, coder)
    ids = [(moment, writer.alignable(parent, moment)) for moment in lane]
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)
    types: dict[str, str] = {}
    for category in book.categories if book is not None else ():
        types[f"{who} {category.label}{suffix}"] = OUR_CODES
    for moment, annotation_id in ids:
        for category_label, codes in _codes_by_category(moment, book).items():
            name = f"{who} {category_label}{suffix}"
            types[name] = OUR_CODES
            children[name].append((annotation_id, "; ".join(codes)))
        if moment.caption:
            types[f"{who} caption{suffix}"] = OUR_CAPTION
            children[f"{who} caption{suffix}"].append((annotation_id, moment.caption))
        for language, text in moment.translations:
            name = f"{who} caption{suffix} ({language})"
            types[name] = OUR_TRANSLATION
            children[name].append((annotation_id, text))
        if include_notes and moment.note:
            types[f"{who} note{suffix}"] = OUR_NOTE
            children[f"{who} note{suffix}"].append((annotation_id, moment.note))
    for name, type_id in types.items():
        tier = writer.tier(name, type_id, coder, parent_name)
        for annotation_id, value in children.get(name, []):
            writer.reference(tier, annotation_id, value)


def _codes_by_category(moment: Moment, book: Codebook | None) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    known = {c.id for c in book.codes()} if book is not None else set()
    for code in moment.codes:
        if book is not None and code in known:
            result[book.category_of(code).label].append(code)
        else:
            result[OTHER_CODES].append(code)
    return result


def _types_and_constraints(root: ET.Element) -> None:
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": OUR_MOMENT, "TIME_ALIGNABLE": "true"},
    )
    for type_id in (OUR_CODES, OUR_CAPTION, OUR_TRANSLATION, OUR_NOTE):
        ET.SubElement(
            root,
            "LINGUISTIC_TYPE",
            {
                "CONSTRAINTS": _ASSOCIATION,
                "GRAPHIC_REFERENCES": "false",
                "LINGUISTIC_TYPE_ID": type_id,
                "TIME_ALIGNABLE": "false",
            },
        )
    for stereotype, description in (
        (
            "Time_Subdivision",
            "Time subdivision of parent annotation's time interval, no time "
            "gaps allowed within this interval",
        ),
        (
            "Symbolic_Subdivision",
            "Symbolic subdivision of a parent annotation. Annotations "
            "refering to the same parent are ordered",
        ),
        (_ASSOCIATION, "1-1 association with a parent annotation"),
        (
            "Included_In",
            "Time alignable annotations within the parent annotation's time interval, "
            "gaps are allowed",
        ),
    ):
        ET.SubElement(root, "CONSTRAINT", {"DESCRIPTION": description, "STEREOTYPE": stereotype})
