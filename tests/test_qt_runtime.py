"""Guard against PySide6 6.12.0's reference-count bug on None (crashes Python 3.11 after
~15,000 void calls; see ../shared/DESIGN.md). 50,000 void calls must not abort the process."""

import subprocess
import sys
import textwrap


def test_fifty_thousand_void_calls_do_not_crash():
    code = textwrap.dedent(
        """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtGui import QGuiApplication, QImage, QPainter
        app = QGuiApplication([])
        image = QImage(64, 64, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        for i in range(50_000):
            painter.drawLine(0, 0, i % 64, 63)  # returns void
        painter.end()
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_pyside6_version_is_pinned_below_the_broken_release():
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12) or sys.version_info >= (3, 12)
