"""Screenshots of the app's main views for docs/screenshots, as a person sees them.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/take_screenshots.py DEMO_LIBRARY

DEMO_LIBRARY is a demo library (``videofeedback demo --no-app --library DIR``); a recording
session is added to it.
"""

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow

app = QApplication(sys.argv)

out = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
w = MainWindow()
w.resize(1280, 800)
w.show()
w.open_library(Path(sys.argv[1]))


def shot(name):
    app.processEvents()
    w.screen().grabWindow(0, 0, 0, 1280, 800).save(str(out / f"{name}.png"))
    print("shot", name)


steps = []


def at(ms, fn):
    QTimer.singleShot(ms, fn)


at(1500, lambda: shot("1-unlock"))


def unlock():
    w.unlock_view.passphrase.setText("pat-demo-passphrase")
    w.unlock_view.unlock()


at(2000, unlock)
at(5000, lambda: shot("2-cases"))


def case():
    w.open_case(w.cases_view.cases.item(0).data(256))


at(5500, case)
at(6500, lambda: shot("3-case"))


def review():
    mid = w.case_view.sessions.topLevelItem(0).child(0).data(0, 256)[1]
    w.show_review(mid)


at(7000, review)


def select():
    r = w.review_view
    r.select(r.notes.annotations.moments[1].id)


at(14000, select)
at(16000, lambda: shot("5-review"))


def zoom():
    r = w.review_view
    for _ in range(4):
        r.timeline.zoom(2)


at(16500, zoom)
at(18000, lambda: shot("6-review-zoomed"))


def record():
    w.review_view.close_media()
    w.case_view.new_recording_session()
    w.record_view.start()


at(18500, record)
at(21500, lambda: w.record_view.mark())
at(23500, lambda: shot("4-record"))
at(24000, lambda: w.record_view.stop())
at(30000, lambda: (w.close(), app.quit()))
app.exec()
