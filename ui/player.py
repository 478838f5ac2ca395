"""Playback of an encrypted recording: QMediaPlayer reads through a decrypting QIODevice, so
no plaintext file ever exists. Frames arrive in a QVideoSink and are painted by VideoView."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRect, Qt, QUrl, Signal
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


class DecryptingDevice(QIODevice):
    """A random-access, read-only QIODevice over an age file (each read authenticated)."""

    def __init__(self, path: Path, identities: list[Identity], parent: QObject | None = None):
        super().__init__(parent)
        self._reader = AgeReader(path, identities)
        self._size = self._reader.size()
        self._lock = threading.Lock()  # the player's demuxer thread reads; the GUI closes

    def isSequential(self) -> bool:  # noqa: N802 - Qt's name
        return False

    def size(self) -> int:
        return self._size

    def bytesAvailable(self) -> int:  # noqa: N802 - Qt's name
        return self._size - self.pos() + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 - Qt's name
        with self._lock:
            if self._reader.closed:
                return b""
            self._reader.seek(self.pos())
            return self._reader.read(min(maxlen, self._size - self.pos())) or b""

    def writeData(self, data: QByteArray | bytes) -> int:  # noqa: N802 - Qt's name
        return -1

    def close(self) -> None:
        with self._lock:
            self._reader.close()
        super().close()


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
        self.media.errorOccurred.connect(lambda _e, text: self.error.emit(text))
        self._device: DecryptingDevice | None = None

    def load(self, path: Path, identities: list[Identity], fps: Fraction) -> None:
        self.unload()
        self.fps = fps
        self._device = DecryptingDevice(path, identities, self)
        self._device.open(QIODevice.OpenModeFlag.ReadOnly)
        self.media.setSourceDevice(self._device, QUrl("recording.mp4"))
        self.media.pause()  # shows the first frame

    def load_bytes(self, data: bytes, fps: Fraction) -> None:
        """Play media held in memory (a hand-over bundle's, decrypted but never written)."""
        self.unload()
        self.fps = fps
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(data))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.media.setSourceDevice(self._buffer, QUrl("bundle.mp4"))
        self.media.pause()

    def unload(self) -> None:
        self.media.stop()
        self.media.setSourceDevice(None)
        if self._device is not None:
            self._device.close()
            self._device = None

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
