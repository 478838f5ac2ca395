"""The redacted copy's sound: one ffmpeg filter graph that silences every range of the plan,
lays a 1 kHz tone over the ranges to bleep, and over the ranges to disguise the same sound
pitch- and formant-shifted (ffmpeg's ``rubberband``: the voice a fifth lower, its formants
moved with it, so it sounds like another, larger speaker; the words stay intelligible).

A disguise is not anonymisation: a pitch shift by a fixed factor can be shifted back by
someone who guesses the factor, and speech rhythm and word choice stay. Mute names and
anything identifying; disguise only where the words must stay and the voice is the concern
(docs/FORMAT.md section 11)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from .plan import RedactionPlan

RATE = 48000
#: The disguise's pitch factor: 0.7 is about six semitones down.
PITCH = 0.7


def _ranges(spans: Iterable[tuple[Fraction, Fraction]]) -> str:
    return "+".join(f"between(t,{float(s):.6f},{float(e):.6f})" for s, e in spans)


def mute_filter(mutes: Iterable[tuple[Fraction, Fraction]]) -> str:
    ranges = _ranges(mutes)
    return f"volume=enable='{ranges}':volume=0" if ranges else "anull"


def _only(ranges: str) -> str:
    """Silence outside ``ranges``."""
    return f"volume=enable='not({ranges})':volume=0"


def sound_graph(plan: RedactionPlan, source: str = "[0:a:0]", out: str = "[sound]") -> str:
    """The original sound silenced over every range of the plan; mixed over them, a 1 kHz
    tone (bleep) or the original disguised (disguise). Nothing of the original's own
    waveform is left inside any range."""
    spans = {mode: _ranges(m.seconds() for m in plan.mutes if m.mode == mode)
             for mode in ("bleep", "disguise")}  # fmt: skip
    every = mute_filter(m.seconds() for m in plan.mutes)
    if not spans["disguise"]:
        head, parts = f"{source}aresample={RATE},{every}[silenced]", ["[silenced]"]
    else:
        head = (
            f"{source}aresample={RATE},asplit=2[keep][voice];[keep]{every}[silenced];"
            f"[voice]rubberband=pitch={PITCH}:formant=shifted,{_only(spans['disguise'])}"
            "[disguised]"
        )
        parts = ["[silenced]", "[disguised]"]
    if spans["bleep"]:
        tone = f"sine=frequency=1000:sample_rate={RATE},volume=0.25,{_only(spans['bleep'])}"
        head += f";{tone}[tone]"
        parts.append("[tone]")
    if len(parts) == 1:
        return head.removesuffix("[silenced]") + out
    mix = f"amix=inputs={len(parts)}:duration=first:normalize=0"
    return f"{head};{''.join(parts)}{mix}{out}"
