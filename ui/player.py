"""Playback of an encrypted recording: QMediaPlayer reads through a decrypting QIODevice, so
no plaintext file ever exists. Frames arrive in a QVideoSink and are painted by VideoView."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import (
    Q_ARG,
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QMetaObject,
    QObject,
    QRect,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtMultimedia import (
    QAudioOutput,
    QMediaDevices,
    QMediaPlayer,
    QVideoFrame,
    QVideoSink,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from encryption import AgeReader, Identity
from vferrors import VideofeedbackError
from videofeedback.library.cases import Case
from videofeedback.library.records import MediaRecord
from videofeedback.team.remote_media import StoreMedia, media_source


class DecryptingDevice(QIODevice):
    """A random-access, read-only QIODevice over an age file (each read authenticated)."""

    def __init__(
        self,
        source: Path | AgeReader,
        identities: list[Identity] | None = None,
        parent: QObject | None = None,
    ):
        if parent is None:
            super().__init__()
        else:
            super().__init__(parent)
        # an AgeReader given ready-made reads from elsewhere: the team store (ranged GETs)
        if isinstance(source, AgeReader):
            self._reader = source
        else:
            self._reader = AgeReader(source, identities or [])
        self._size = self._reader.size()
        self.failure = ""  # why reading stopped early, if it did
        self._lock = threading.Lock()  # the player's demuxer thread reads; the GUI closes

    def isSequential(self) -> bool:  # noqa: N802 - Qt's name
        return False

    def size(self) -> int:
        return self._size

    def bytesAvailable(self) -> int:  # noqa: N802 - Qt's name
        return self._size - self.pos() + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 - Qt's name
        with self._lock:
            if self._reader.closed or self.failure:
                return b""
            try:
                self._reader.seek(self.pos())
                return self._reader.read(min(maxlen, self._size - self.pos())) or b""
            except VideofeedbackError as exc:  # a chunk or store block that fails its check:
                self.failure = str(exc)  # nothing of it is given; the player's thread
                return b""  # sees the end instead of a Python exception

    def writeData(self, data: bytes | bytearray | memoryview, size: int, /) -> int:  # noqa: N802
        return -1

    def close(self) -> None:
        super().close()
        with self._lock:
            self._reader.close()


class Player(QObject):
    """One recording's playback, in milliseconds and in frames."""

    position_changed = Signal(int)  # milliseconds
    frame_ready = Signal(QImage)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fps = Fraction(30)
        self.media = QMediaPlayer(self)
        self.sink = QVideoSink(self)
        self.media.setVideoSink(self.sink)
        if not QMediaDevices.defaultAudioOutput().isNull():
            self.audio = QAudioOutput(self)
            self.media.setAudioOutput(self.audio)
        self.sink.videoFrameChanged.connect(self._on_frame)
        self.media.positionChanged.connect(self.position_changed.emit)
        self.media.errorOccurred.connect(self._on_error)
        self._source: QIODevice | None = None  # what the player reads, or is about to
        self._pending: tuple[QIODevice, QUrl] | None = None
        self._retired: list[QIODevice] = []  # let go of, closed once the player is empty
        self._active = False  # errors count only while a source is loaded
        self._attached: tuple[QIODevice, QUrl] | None = None
        self._attempts = 0
        self.store_media: StoreMedia | None = None  # the recording read from the store, if so
        self.media.mediaStatusChanged.connect(self._on_status)

    # --- loading and unloading -------------------------------------------------------------
    #
    # The player's own threads call the device (read, atEnd, size…), and on a Python
    # subclass every such call needs the interpreter lock. QMediaPlayer's stop() and
    # setSource*() wait for those threads, so called from Python — which holds the lock —
    # they can wait forever for a thread that waits for the lock. So the player is stopped
    # and emptied by queued calls that the event loop makes from C++ (the lock released),
    # and a new source is attached only once the player is empty, when nothing waits.

    def load(self, path: Path, identities: list[Identity], fps: Fraction) -> None:
        device = DecryptingDevice(path, identities, self)
        device.open(QIODevice.OpenModeFlag.ReadOnly)
        self._load(device, "recording.mp4", fps)

    def load_record(self, case: Case, record: MediaRecord, fps: Fraction) -> None:
        """A case's recording: from its file here, else straight from the team store
        (ranged reads decrypted in memory; nothing plaintext is written)."""
        source = media_source(case, record)
        if isinstance(source, Path):
            self.load(source, [case.identity], fps)
            return
        self.store_media = source
        # one reader for the whole playback, hopping between fragment headers on open
        device = DecryptingDevice(source.open(first_read=1), parent=self)
        device.open(QIODevice.OpenModeFlag.ReadOnly)
        self._load(device, "recording.mp4", fps)

    def load_bytes(self, data: bytes, fps: Fraction) -> None:
        """Play media held in memory (a hand-over bundle's, decrypted but never written)."""
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._load(buffer, "bundle.mp4", fps)

    def _load(self, device: QIODevice, name: str, fps: Fraction) -> None:
        self.unload()
        self.fps = fps
        self._source = device
        self._pending = (device, QUrl(name))
        self._attempts = 0
        QMetaObject.invokeMethod(self, "_attach", Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _attach(self) -> None:
        if self._pending is None:
            return
        device, url = self._pending
        self._attached = self._pending
        self._pending = None
        self._attempts += 1
        device.seek(0)
        self.media.setSourceDevice(device, url)  # the player is empty: nothing to wait for
        self._active = True
        self.media.pause()  # shows the first frame

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        """Emptying the player finishes in its own time; if that lands after the new source
        was attached, the player ends up empty: attach it again (seen in 1 of ~30 swaps)."""
        lost = status == QMediaPlayer.MediaStatus.NoMedia and self.media.sourceDevice() is None
        if lost and self._active and self._attached is not None and self._attempts < 4:
            self._pending = self._attached
            QTimer.singleShot(20, self._attach)

    def unload(self, wait: bool = False) -> None:
        """Let go of the source (queued, see above); ``wait``: until that is done (closing)."""
        self._active = False
        self._pending = None
        self._attached = None
        if self._source is None:
            return
        queued = Qt.ConnectionType.QueuedConnection
        QMetaObject.invokeMethod(self.media, "stop", queued)
        QMetaObject.invokeMethod(self.media, "setSource", queued, Q_ARG(QUrl, QUrl()))
        self._retired.append(self._source)
        self._source = None
        QMetaObject.invokeMethod(self, "_close_retired", queued)
        deadline = time.monotonic() + 2
        while wait and self._retired and time.monotonic() < deadline:
            QCoreApplication.processEvents()

    @Slot()
    def _close_retired(self) -> None:
        for device in self._retired:
            device.close()
        self._retired.clear()

    # --- transport -----------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self.media.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def toggle(self) -> None:
        if self.playing:
            self.media.pause()
        else:
            self.media.setPlaybackRate(1.0)
            self.media.play()

    def play(self, rate: float = 1.0) -> None:
        self.media.setPlaybackRate(rate)
        self.media.play()

    def pause(self) -> None:
        self.media.pause()

    def seconds(self) -> Fraction:
        return Fraction(self.media.position(), 1000)

    def frame(self) -> int:
        return int(self.seconds() * self.fps)

    def duration(self) -> Fraction:
        return Fraction(self.media.duration(), 1000)

    def seek(self, seconds: Fraction) -> None:
        end = self.duration()
        seconds = max(Fraction(0), min(seconds, end) if end else seconds)
        self.media.setPosition(int(seconds * 1000))

    def seek_frame(self, frame: int) -> None:
        """The middle of frame ``frame``, so rounding to milliseconds cannot land on its
        neighbour."""
        self.seek((Fraction(max(frame, 0)) + Fraction(1, 2)) / self.fps)

    def step(self, frames: int) -> None:
        self.pause()
        self.seek_frame(self.frame() + frames)

    def _on_error(self, _error: object, text: str) -> None:
        if self._active:  # complaints about a source being let go of are not errors
            self.error.emit(text)

    def _on_frame(self, frame: QVideoFrame) -> None:
        if frame.isValid():
            self.frame_ready.emit(frame.toImage())


class VideoView(QWidget):
    """Paints the player's latest frame, letterboxed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def clear(self) -> None:
        self.image = QImage()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = (self.width() - size.width()) // 2
            y = (self.height() - size.height()) // 2
            painter.drawImage(QRect(x, y, size.width(), size.height()), self.image)
