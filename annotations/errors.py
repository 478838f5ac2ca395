"""Errors of the annotation model."""

from vferrors import VideofeedbackError


class AnnotationError(VideofeedbackError):
    """An edit or a file does not make sense (bad times, unknown ids)."""


class CodebookError(AnnotationError):
    """A codebook is invalid, or a code is not in the codebook."""


class InterchangeError(AnnotationError):
    """An annotation file cannot be read."""
