"""Where the shared reference material is: ../shared beside the checkout (CI has it too)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("VIDEOFEEDBACK_SHARED", REPO.parent / "shared"))
VECTORS = SHARED / "vectors" / "age-cctv"
MEDIA = SHARED / "media"
