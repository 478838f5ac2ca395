"""videofeedback: the application core (library, cases, audit, jobs, CLI). No widgets."""

__version__ = "0.1.0"
