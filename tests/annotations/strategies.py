"""Hypothesis strategies for annotations: frame-exact times, codes, captions in many scripts."""

from fractions import Fraction

from hypothesis import strategies as st

from annotations import Annotations, Moment, default_codebook

FPS = Fraction(30000, 1001)
DURATION = Fraction(600)
CODEBOOK = default_codebook()
CODES = [c.id for c in CODEBOOK.codes()]
WORD_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzĄąĘęŁłŚśŻżابتثجحخدذرزسشصضطظعغفقكلمنهويیےবাংলাভষ中文字幕&<>'\",.!?-"
)

words = st.text(alphabet=WORD_ALPHABET, min_size=1, max_size=8)
lines = st.lists(words, min_size=1, max_size=5).map(" ".join)
captions = st.one_of(st.just(""), st.lists(lines, min_size=1, max_size=2).map("\n".join))
frames = st.integers(0, int(DURATION * FPS) - 2)


@st.composite
def moments(draw, index: int = 0):
    start = draw(frames)
    point = draw(st.booleans())
    length = draw(st.integers(1, 300))
    end = None if point else Fraction(min(start + length, int(DURATION * FPS) - 1)) / FPS
    codes = tuple(draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True)))
    note = draw(captions)
    return Moment(
        f"mo-{index:010x}",
        Fraction(start) / FPS,
        end,
        codes,
        draw(captions),
        note,
        "bob",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    )


@st.composite
def annotation_sets(draw):
    count = draw(st.integers(0, 12))
    items = [draw(moments(index=i)) for i in range(count)]
    return Annotations("m-0123456789", FPS, DURATION, CODEBOOK, items)
