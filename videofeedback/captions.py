"""Captions and title cards drawn with Qt's text engine (QtGui only, no widgets), so every
script a family reads shapes correctly: Polish, Arabic and Urdu right to left, Bengali,
Chinese… Qt falls back across the installed fonts (Noto, from the setup) per character.
ffmpeg gets the result as a PNG to overlay.
"""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLoggingCategory, QRect, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QTextOption

_app: QGuiApplication | None = None


def ensure_gui() -> None:
    """A QGuiApplication must exist to render text; headless, use the offscreen platform."""
    global _app
    if QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # "OpenType support missing for Noto Sans, script 12": Qt says so before it falls
        # back to Noto Sans Bengali, which shapes Bengali right; not worth a line on a CLI
        QLoggingCategory.setFilterRules("qt.text.font.db=false")
        _app = QGuiApplication([])


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; Qt wants str
    return bytes(data.data())


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont("Noto Sans")
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _text_option() -> QTextOption:
    option = QTextOption(Qt.AlignmentFlag.AlignCenter)
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    option.setTextDirection(Qt.LayoutDirection.LayoutDirectionAuto)  # right to left as needed
    return option


def caption_image(text: str, width: int, height: int) -> QImage:
    """A transparent frame with the caption on a dark band in the lower third."""
    ensure_gui()
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    if not text.strip():
        return image
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setFont(_font(max(18, height // 16), bold=True))
    margin = width // 16
    area = QRect(margin, height * 2 // 3, width - 2 * margin, height // 3 - height // 20)
    bounds = painter.boundingRect(
        area, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text
    )
    band = bounds.adjusted(-height // 40, -height // 60, height // 40, height // 60)
    painter.fillRect(band, QColor(0, 0, 0, 170))
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(area.toRectF(), text, _text_option())
    painter.end()
    return image


def title_image(text: str, subtitle: str, width: int, height: int) -> QImage:
    """An opaque title card."""
    ensure_gui()
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(28, 52, 74))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setPen(QColor(255, 255, 255))
    painter.setFont(_font(height // 10, bold=True))
    painter.drawText(QRect(0, height // 4, width, height // 3).toRectF(), text, _text_option())
    if subtitle:
        painter.setFont(_font(height // 20))
        painter.drawText(
            QRect(0, height * 7 // 12, width, height // 4).toRectF(), subtitle, _text_option()
        )
    painter.end()
    return image


def caption_png(text: str, width: int, height: int) -> bytes:
    return _png(caption_image(text, width, height))


def title_png(text: str, subtitle: str, width: int, height: int) -> bytes:
    return _png(title_image(text, subtitle, width, height))


def draw_caption(frame_bgr: np.ndarray, text: str) -> np.ndarray:
    """The frame with the caption blended onto it (BGR in, BGR out)."""
    height, width = frame_bgr.shape[:2]
    image = caption_image(text, width, height).convertToFormat(QImage.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    bgra = pixels.reshape(height, image.bytesPerLine() // 4, 4)[:, :width].astype(np.float32)
    alpha = bgra[..., 3:4] / 255.0
    blended = frame_bgr.astype(np.float32) * (1 - alpha) + bgra[..., :3] * alpha
    return blended.round().astype(np.uint8)
