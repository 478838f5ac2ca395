"""Errors of the case library."""

from videofeedback.errors import VideofeedbackError


class LibraryError(VideofeedbackError):
    """The library folder is missing, damaged or in an unexpected state."""


class LibraryLockedError(LibraryError):
    """Another videofeedback process is writing to this library."""


class NotFoundError(LibraryError):
    """A user, case, participant, session or goal with that id does not exist."""


class PermissionDeniedError(VideofeedbackError):
    """The user's role or case membership does not allow this."""


class ConsentError(VideofeedbackError):
    """Consent for this purpose is missing or was withdrawn."""


class AuthenticationError(VideofeedbackError):
    """The user or passphrase is wrong."""
