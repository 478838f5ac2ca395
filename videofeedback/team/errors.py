"""What can go wrong talking to the team store, each with what to do next."""

from videofeedback.errors import VideofeedbackError


class StoreError(VideofeedbackError):
    """The team store did not do what was asked."""


class StoreUnreachableError(StoreError):
    """The store cannot be reached now (offline, stopped, refused connection)."""


class StoreAccessError(StoreError):
    """The store refused the credentials or the bucket."""


class StoreConflictError(StoreError):
    """A conditional write lost: the object exists, or changed since it was read."""


class StoreNotFoundError(StoreError):
    """No object of that name."""


class StoreFullError(StoreError):
    """The store refused a write for lack of space or quota."""


class SyncError(StoreError):
    """A case could not be synced (named in the message); nothing of it was merged."""


class SyncRollbackError(SyncError):
    """The store served an older or different history of a case than this laptop saw."""
