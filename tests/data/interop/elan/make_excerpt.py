"""Cut a pympi sample EAF down to its first seconds (used once to make the test data)."""

import re
import sys

src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(src, encoding="utf-8").read()
slots = dict(re.findall(r'TIME_SLOT_ID="(ts\d+)"(?: TIME_VALUE="(\d+)")?', text))
order = re.findall(r'TIME_SLOT_ID="(ts\d+)"', text[: text.index("</TIME_ORDER>")])
# a slot's effective time: the last aligned one before it (unaligned slots sit between)
last, eff = 0, {}
for s in order:
    if slots[s]:
        last = int(slots[s])
    eff[s] = last
keep_ids = set()


def keep_annotation(block):
    m = re.search(r'TIME_SLOT_REF1="(ts\d+)" TIME_SLOT_REF2="(ts\d+)"', block)
    if m:
        return eff[m.group(2)] <= limit and eff[m.group(1)] < limit
    ref = re.search(r'ANNOTATION_REF="(a\d+)"', block).group(1)
    return ref in keep_ids


out, used = [], set()
for piece in re.split(r"(\s*<ANNOTATION>.*?</ANNOTATION>)", text, flags=re.S):
    if piece.strip().startswith("<ANNOTATION>"):
        if keep_annotation(piece):
            keep_ids.add(re.search(r'ANNOTATION_ID="(a\d+)"', piece).group(1))
            used |= set(re.findall(r'TIME_SLOT_REF\d="(ts\d+)"', piece))
            out.append(piece)
    else:
        out.append(piece)
result = "".join(out)
result = re.sub(
    r'\s*<TIME_SLOT TIME_SLOT_ID="(ts\d+)"[^>]*/>',
    lambda m: m.group(0) if m.group(1) in used else "",
    result,
)
open(dst, "w", encoding="utf-8").write(result)
