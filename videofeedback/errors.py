"""The one exception base class, re-exported for the core and the UI (it lives in the
leaf package ``vferrors``, below every layer, so the lower packages need no exception)."""

from vferrors import VideofeedbackError

__all__ = ["VideofeedbackError"]
