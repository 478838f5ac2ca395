import numpy as np
from PySide6.QtGui import QImage

from clips.synthetic import read_pattern


def frame_number(image: QImage) -> int:
    """The frame number the synthetic source drew into this picture."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * height)
    return read_pattern(data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3))
