"""The camera's picture before Start, so the shot can be framed: a thread reads the chosen
source (a camera without its microphone, or the synthetic picture) a few times a second and
hands each frame to the GUI as a QImage. Frames stay in memory; nothing is written. It must be
stopped (``stop_and_wait``) before the recorder opens the same camera."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from clips.camera import CameraSource
from clips.record import Source
from clips.synthetic import SyntheticSource

PREVIEW_FPS = 12
SYNTHETIC = "synthetic"


def preview_source(choice: int | str) -> AbstractContextManager[Source]:
    """The chosen camera with no microphone (nothing is heard or kept), or the synthetic one."""
    if choice == SYNTHETIC:
        return nullcontext(SyntheticSource(640, 360))
    return CameraSource(choice, microphone=None)


class CameraPreview:
    """One preview at a time; ``start`` replaces a running one."""

    def __init__(self, show: Callable[[np.ndarray], None], failed: Callable[[str], None]) -> None:
        # both are called on the preview's thread: they must only emit a signal
        self._show, self._failed = show, failed
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, choice: int | str) -> None:
        self.stop()  # the old thread ends on its own; a new flag for the new one
        self._stop = stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(choice, stop), name="camera-preview", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the preview to end (it closes the camera within a frame)."""
        self._stop.set()

    def stop_and_wait(self, seconds: float = 5.0) -> bool:
        """End it and wait until the camera is closed (before a recorder opens it)."""
        self.stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(seconds)
        return not self.running

    def _run(self, choice: int | str, stop: threading.Event) -> None:
        try:
            with preview_source(choice) as source:
                number = 0
                while not stop.is_set():
                    frame = source.frame(number)
                    if frame is not None:
                        self._show(frame)
                    number += max(1, int(source.fps) // PREVIEW_FPS)
                    stop.wait(1 / PREVIEW_FPS)
        except Exception as exc:  # noqa: BLE001 - told, never lost in a thread
            self._failed(f"No picture from this source to frame the shot ({exc}); choose another")
