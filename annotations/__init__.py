"""Annotations: moments, codebooks, undoable edits, reel plans, interchange, agreement.

Pure Python: no Qt and no media. See docs/ARCHITECTURE.md.
"""

from .codebook import (
    BUILTIN,
    Category,
    Code,
    Codebook,
    builtin_codebook,
    default_codebook,
    load_codebook,
    parse_codebook,
)
from .commands import Editor, UndoStack
from .errors import AnnotationError, CodebookError, InterchangeError
from .model import Annotations, Moment, Still
from .reel import ReelItem, ReelPlan, TitleCard, plan_from

__all__ = [
    "BUILTIN",
    "AnnotationError",
    "Annotations",
    "Category",
    "Code",
    "Codebook",
    "CodebookError",
    "Editor",
    "InterchangeError",
    "Moment",
    "ReelItem",
    "ReelPlan",
    "Still",
    "TitleCard",
    "UndoStack",
    "builtin_codebook",
    "default_codebook",
    "load_codebook",
    "parse_codebook",
    "plan_from",
]
