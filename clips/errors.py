"""Errors of the media layer."""

from vferrors import VideofeedbackError


class MediaError(VideofeedbackError):
    """A media operation failed."""


class UnreadableMediaError(MediaError):
    """The file is damaged or not a video videofeedback can read."""


class CancelledError(MediaError):
    """The operation was cancelled; nothing was kept."""


class DiskFullError(MediaError):
    """The disk filled up; what was recorded so far was kept."""
