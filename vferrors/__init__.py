"""The one exception base class of the project.

This leaf package imports nothing and sits below every layer, so every package (even
``encryption``) may use it.
Messages say what happened and what the person can do next; the UI shows them as-is.
"""


class VideofeedbackError(Exception):
    """Base class of every error videofeedback raises on purpose."""
