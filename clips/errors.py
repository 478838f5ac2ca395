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


class GopError(MediaError):
    """The fast path (reading a recording's samples directly) cannot be used; the caller
    falls back to ffmpeg."""


class BoxError(GopError):
    """An MP4 box is malformed (the message names the box); a subclass of GopError so that
    every fast path falls back to ffmpeg on a damaged file."""
