"""ELAN .eaf (EAF 3.0): one tier per codebook category, plus a moment tier and a caption tier.

Every moment is an annotation on the tier "videofeedback moment" (value: its id). Its codes
are annotations on their category's tier over the same time slots (value: the code ids,
'; '-separated); its caption is on "Caption (for the parent)". Point moments last one
millisecond, since ELAN has no points.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from fractions import Fraction

from ..codebook import Codebook
from ..errors import InterchangeError
from ..model import Annotations, Moment, now_iso
from ..timebase import snap

MOMENT_TIER = "videofeedback moment"
CAPTION_TIER = "Caption (for the parent)"
NOTE_TIER = "Practitioner note"
UNCODED_TIER = "Other codes"
_LT = "default-lt"
_POINT_MS = 1


def _ms(time: Fraction) -> int:
    return round(time * 1000)


def to_eaf_text(annotations: Annotations, include_notes: bool = False) -> str:
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": "",
            "DATE": now_iso(),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    ET.SubElement(header, "PROPERTY", {"NAME": "videofeedback:media"}).text = annotations.media_id
    time_order = ET.SubElement(root, "TIME_ORDER")
    tiers: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # tier -> (ts1, ts2, value)
    for number, m in enumerate(annotations.in_time_order(), start=1):
        start_ms = _ms(m.start)
        end_ms = start_ms + _POINT_MS if m.end is None else _ms(m.end)
        ts1, ts2 = f"ts{2 * number - 1}", f"ts{2 * number}"
        ET.SubElement(time_order, "TIME_SLOT", {"TIME_SLOT_ID": ts1, "TIME_VALUE": str(start_ms)})
        ET.SubElement(time_order, "TIME_SLOT", {"TIME_SLOT_ID": ts2, "TIME_VALUE": str(end_ms)})
        tiers[MOMENT_TIER].append((ts1, ts2, m.id))
        for tier, codes in _codes_by_tier(m, annotations.codebook).items():
            tiers[tier].append((ts1, ts2, "; ".join(codes)))
        if m.caption:
            tiers[CAPTION_TIER].append((ts1, ts2, m.caption))
        if include_notes and m.note:
            tiers[NOTE_TIER].append((ts1, ts2, m.note))
    annotation_id = 0
    for tier_name in _tier_order(annotations.codebook, tiers):
        tier_element = ET.SubElement(
            root, "TIER", {"LINGUISTIC_TYPE_REF": _LT, "TIER_ID": tier_name}
        )
        for ts1, ts2, value in tiers.get(tier_name, []):
            annotation_id += 1
            wrapper = ET.SubElement(tier_element, "ANNOTATION")
            alignable = ET.SubElement(
                wrapper,
                "ALIGNABLE_ANNOTATION",
                {
                    "ANNOTATION_ID": f"a{annotation_id}",
                    "TIME_SLOT_REF1": ts1,
                    "TIME_SLOT_REF2": ts2,
                },
            )
            ET.SubElement(alignable, "ANNOTATION_VALUE").text = value
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(annotation_id)
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": _LT, "TIME_ALIGNABLE": "true"},
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
        ("Symbolic_Association", "1-1 association with a parent annotation"),
        (
            "Included_In",
            "Time alignable annotations within the parent annotation's time interval, "
            "gaps are allowed",
        ),
    ):
        ET.SubElement(root, "CONSTRAINT", {"DESCRIPTION": description, "STEREOTYPE": stereotype})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _codes_by_tier(moment: Moment, codebook: Codebook | None) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    for code in moment.codes:
        if codebook is not None and code in {c.id for c in codebook.codes()}:
            result[codebook.category_of(code).label].append(code)
        else:
            result[UNCODED_TIER].append(code)
    return result


def _tier_order(
    codebook: Codebook | None, tiers: dict[str, list[tuple[str, str, str]]]
) -> list[str]:
    names = [MOMENT_TIER]
    if codebook is not None:
        names += [c.label for c in codebook.categories]  # every category, even when empty
    names += [t for t in (UNCODED_TIER, CAPTION_TIER, NOTE_TIER) if t in tiers]
    return names


def from_eaf_text(text: str, into: Annotations) -> list[Moment]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InterchangeError(f"not an ELAN file ({exc})") from None
    slots = {
        s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE", "0"))
        for s in root.iter("TIME_SLOT")
        if s.get("TIME_VALUE") is not None
    }
    # Each moment is anchored by its annotation on the moment tier (its own time slots); other
    # tiers attach by the same slots, or, for files made in ELAN itself, by the same span.
    groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    annotations: list[tuple[str, tuple[str, str], str]] = []
    for tier in root.iter("TIER"):
        for annotation in tier.iter("ALIGNABLE_ANNOTATION"):
            refs = (annotation.get("TIME_SLOT_REF1", ""), annotation.get("TIME_SLOT_REF2", ""))
            if refs[0] not in slots or refs[1] not in slots:
                raise InterchangeError("an ELAN annotation refers to a missing time slot")
            value = annotation.findtext("ANNOTATION_VALUE") or ""
            annotations.append((tier.get("TIER_ID", ""), refs, value))
            spans[refs] = (slots[refs[0]], slots[refs[1]])
    anchors = {refs for tier_id, refs, _ in annotations if tier_id == MOMENT_TIER}
    by_span = {spans[refs]: refs for refs in sorted(anchors)}
    for tier_id, refs, value in annotations:
        if refs not in anchors:  # attach to the moment over the same span, or group by span
            refs = by_span.setdefault(spans[refs], refs)
        groups[refs][tier_id].append(value)
    return [
        _moment(spans[key], values, into)
        for key, values in sorted(groups.items(), key=lambda item: spans[item[0]])
    ]


def _moment(span: tuple[int, int], values: dict[str, list[str]], into: Annotations) -> Moment:
    start = snap(Fraction(span[0], 1000), into.fps)
    end = None if span[1] - span[0] <= _POINT_MS else snap(Fraction(span[1], 1000), into.fps)
    ids = values.get(MOMENT_TIER, [])
    codes: list[str] = []
    for tier, tier_values in values.items():
        if tier in (MOMENT_TIER, CAPTION_TIER, NOTE_TIER):
            continue
        for value in tier_values:
            codes += [c.strip() for c in value.split(";") if c.strip()]
    now = now_iso()
    return Moment(
        ids[0] if ids else f"mo-eaf{span[0]}",
        start,
        end,
        tuple(codes),
        "\n".join(values.get(CAPTION_TIER, [])),
        "\n".join(values.get(NOTE_TIER, [])),
        "",
        now,
        now,
    )
