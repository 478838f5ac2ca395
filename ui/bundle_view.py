"""A hand-over bundle received from a practitioner, opened read-only in memory: who sent it,
whether its signature and audit trail verify, what it holds, and its recordings to watch."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.eliding import elide_items
from ui.player import Player, VideoView
from videofeedback.library.bundle import OpenedBundle
from videofeedback.library.records import Session, SessionId, SessionKind
from videofeedback.library.sessions import session_title

MEDIA_ROLE = Qt.ItemDataRole.UserRole


def _session(ident: str, kind: str, when: str, notes: str | None, title: str | None) -> Session:
    return Session(
        SessionId(ident), SessionKind(kind), date.fromisoformat(when), notes or "", title or ""
    )


class BundleView(QWidget):
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundle: OpenedBundle | None = None
        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold")
        self.facts = QLabel("")
        self.facts.setWordWrap(True)
        self.facts.setStyleSheet("font-size: 13pt")
        self.media = QListWidget()
        elide_items(self.media)
        self.media.itemActivated.connect(self._on_media_activated)
        self.player = Player(self)
        self.video = VideoView()
        self.player.frame_ready.connect(self.video.show_image)
        play = QPushButton("Play / pause")
        play.clicked.connect(self.player.toggle)
        back = QPushButton("Close the bundle")
        back.clicked.connect(self.close_bundle)
        side = QVBoxLayout()
        side.addWidget(self.facts)
        side.addWidget(QLabel("<b>Recordings and reels</b> (double-click to watch)"))
        side.addWidget(self.media, 1)
        side.addWidget(play)
        side.addWidget(back)
        row = QHBoxLayout()
        row.addLayout(side, 1)
        row.addWidget(self.video, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row, 1)

    def show_bundle(self, bundle: OpenedBundle) -> None:
        self.bundle = bundle
        info = bundle.summary()
        self.title.setText(f"Hand-over bundle: {info['label']}")
        audit = (
            f"✔ audit trail valid ({info['audit_entries']} entries)"
            if info["audit_valid"]
            else "✖ audit trail NOT valid"
        )
        self.facts.setText(
            f"From <b>{info['exporter']}</b>, {info['created'][:10]}<br>"
            f"✔ signed by {info['signed_by']}, every file's hash checked<br>{audit}<br>"
            f"{info['participants']} participants · {info['sessions']} sessions · "
            f"{info['goals']} goals<br>Opened read-only, in memory: nothing is written."
        )
        self.media.clear()
        query = "SELECT m.id, m.kind, s.id, s.kind, s.date, s.notes, s.title FROM media m"
        rows = bundle.db.execute(query + " JOIN sessions s ON s.id = m.session_id").fetchall()
        names = {row[0]: f"{row[1]} of {session_title(_session(*row[2:]))}" for row in rows}
        for media_id in info["media"]:
            item = QListWidgetItem(names.get(media_id, media_id))
            item.setData(MEDIA_ROLE, media_id)
            self.media.addItem(item)

    def _on_media_activated(self, item: QListWidgetItem) -> None:
        if self.bundle is not None:
            self.player.load_bytes(self.bundle.media[item.data(MEDIA_ROLE)], Fraction(30))
            self.player.play()

    def close_bundle(self) -> None:
        self.player.unload()
        self.video.clear()
        if self.bundle is not None:
            self.bundle.db.close()
        self.bundle = None
        self.closed.emit()
