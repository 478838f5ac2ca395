"""Shared review with the parent: full screen, large text, the reel played item by item. Each
item pauses on its caption (in the family's language when there is a translation) and a
reflective prompt; the practitioner types the parent's own words beside it. Leaving needs the
passphrase, and nothing else of the case is reachable meanwhile (the window is modal).

Typing never presses a button: the buttons take focus only by Tab, and after Next, Previous,
Replay or Slower the cursor is back in the words box. Leaving an item whose words box is empty
asks first; Finish says what was saved. Each item is shown from its own first frame: the
picture stays hidden until the player has been positioned and paused there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook
from annotations.model import Annotations
from ui.errors import show_error
from ui.jobs import Jobs
from ui.operations import CaseOp, wait_for_operations
from ui.player import Player, VideoView
from videofeedback.errors import VideofeedbackError
from videofeedback.library.annotating import case_codebook
from videofeedback.library.cases import Case
from videofeedback.library.records import MediaRecord, SessionId, SessionKind
from videofeedback.operations import Changes, Operation, Outcome, add_parent_words
from videofeedback.redacted import shared_review_film
from videofeedback.reels import reel_captions

STILL_SHOWN = Fraction(3)


@dataclass(frozen=True)
class ReviewItem:
    ref: str
    start: Fraction
    end: Fraction | None  # None: a still
    caption: str
    prompt: str


def review_items(
    annotations: Annotations,
    refs: list[str],
    language: str,
    book: Codebook | None = None,
    captions: dict[str, str] | None = None,
) -> list[ReviewItem]:
    """The reel's items in order, with the caption in ``language`` (or as the reel has it, in
    ``captions``) and the principle's prompt (from ``book``, the codebook as the library has
    it now, else the annotations' own)."""
    book = book or annotations.codebook
    captions = captions or {}
    moments = {m.id: m for m in annotations.moments}
    stills = {s.id: s for s in annotations.stills}
    items = []
    for ref in refs:
        if ref in moments:
            m = moments[ref]
            prompt = book.category_of(m.codes[0]).prompt if book and m.codes else ""
            caption = captions.get(ref) or m.caption_in(language)
            items.append(ReviewItem(ref, m.start, m.end, caption, prompt))
        elif ref in stills:
            s = stills[ref]
            items.append(ReviewItem(ref, s.time, None, captions.get(ref) or s.caption, ""))
    return items


@dataclass(frozen=True)
class ReviewStart:
    """What a shared review begins with, read and created in the case's queue."""

    session_id: SessionId
    items: list[ReviewItem]
    language: str
    recording: MediaRecord
    film: bytes | None = None  # redacted for shared review, in memory; None: the original


def start_review(annotations: Annotations, reel_id: str) -> Operation:
    """The reel's items, then a shared review session: refused without shared-review consent
    or when the reel has nothing to review (then no session is made). Run it with CaseOp:
    never on the GUI thread, which would wait for the case's save."""

    def op(case: Case) -> Outcome[ReviewStart]:
        language = case.participants.family_language()
        reel = case.media.get(reel_id)
        refs = list(reel.info.get("items", []))
        book, captions = case_codebook(case), reel_captions(reel)  # the reel's own captions
        items = review_items(annotations, refs, language, book, captions)
        if not items:
            raise VideofeedbackError("this reel has no moments or stills to review")
        recording = case.media.get(annotations.media_id)
        film = shared_review_film(case, annotations.media_id)  # refused before any session
        title = f"Shared review of {case.sessions.title(reel.session)}"
        session_id = case.sessions.new(SessionKind.REVIEW, date.today(), title=title, reel=reel_id)
        start = ReviewStart(session_id, items, language, recording, film)
        return Outcome(Changes(sessions=True), start)

    return op


class SharedReview(QWidget):
    finished = Signal()

    def __init__(self, case: Case, start: ReviewStart, jobs: Jobs) -> None:
        """``start.film``: the recording redacted for shared review, in memory (None: everyone
        in it consented to shared review, the original is played; videofeedback/redacted.py)."""
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setWindowTitle("Shared review")
        self.case, self.jobs = case, jobs
        self.language, self.items = start.language, start.items
        self.session_id = start.session_id
        self.index = 0
        self.words_of: dict[int, str] = {}  # item index → the words typed (saved on leaving)
        self.saved: dict[int, str] = {}  # item index → the words stored in the case
        self._sent: dict[int, str] = {}  # item index → the words last sent to be stored
        self.text_size = 28
        self._may_close = False
        self.player = Player(self)
        self.video = VideoView()
        self._showing = False  # a frame is shown only once the item's first frame is reached
        self._rate = 1.0
        self._start_ms = 0
        self.player.sink.videoFrameChanged.connect(self._on_frame)
        self.player.media.mediaStatusChanged.connect(self._on_media_status)
        self.player.position_changed.connect(self._on_position_changed)
        self.counter = QLabel("")
        self.dots = QLabel("")
        self.dots.setObjectName("itemDots")
        self.dots.setStyleSheet("font-size: 20pt; letter-spacing: 6px")
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt = QLabel("")
        self.prompt.setWordWrap(True)
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.words = QPlainTextEdit()
        self.words.setPlaceholderText("The parent's own words about this moment (typed by you)")
        self.words.setMaximumHeight(110)
        self.words.setMinimumHeight(56)
        self.video.setMinimumSize(240, 120)  # the whole review fits 1280×720 at 150 % (853×480)
        self.buttons: dict[str, QPushButton] = {}
        self._build()
        record = start.recording
        fps = record.fps or Fraction(30)
        if start.film is None:
            self.player.load_record(case, record, fps)
        else:
            self.player.load_bytes(start.film, fps)
        self.redacted = start.film is not None
        self._apply_text_size()
        self._started = False

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        """The first item is shown once the recording is loaded (a seek before is lost)."""
        loaded = (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia)
        if status in loaded and not self._started:
            self._started = True
            self.show_item(0)

    def _build(self) -> None:
        row = QHBoxLayout()
        for key, text, slot in (
            ("previous", "◀  Previous", self.previous_item),
            ("replay", "⟲  Replay", lambda: self.play_item(1.0)),
            ("slower", "½×  Slower", lambda: self.play_item(0.5)),
            ("next", "Next  ▶", self.next_item),
            ("smaller", "A−", lambda: self.resize_text(-4)),
            ("larger", "A+", lambda: self.resize_text(4)),
            ("leave", "Leave…", self.leave),
        ):
            button = QPushButton(text)
            button.setMinimumSize(96, 56)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a typed space never presses it
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.counter)
        top.addStretch(1)
        top.addWidget(self.dots)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.video, 5)
        layout.addWidget(self.caption)
        layout.addWidget(self.prompt)
        layout.addWidget(self.words)
        layout.addLayout(row)

    # --- items ---------------------------------------------------------------------------

    @property
    def item(self) -> ReviewItem:
        return self.items[self.index]

    def show_item(self, index: int) -> None:
        self.index = index
        self.counter.setText(f"{index + 1} of {len(self.items)}")
        self.caption.setText("")
        self.prompt.setText("")
        self.words.setPlainText(self.words_of.get(index, ""))
        self.words.moveCursor(self.words.textCursor().MoveOperation.End)
        self.buttons["previous"].setEnabled(index > 0)
        self.buttons["next"].setText("Finish  ✔" if index == len(self.items) - 1 else "Next  ▶")
        self._show_dots()
        self.play_item(1.0)

    def _show_dots(self) -> None:
        """One dot per item: ● this one, ✔ words kept, ○ not yet."""
        marks = [
            "●" if i == self.index else "✔" if self.words_of.get(i) else "○"
            for i in range(len(self.items))
        ]
        self.dots.setText(" ".join(marks))

    def play_item(self, rate: float) -> None:
        """From the item's own first frame: the picture is hidden until the player is there."""
        self.player.pause()
        self._showing = False
        self.video.clear()
        self._rate = rate
        self._start_ms = int(self.item.start * 1000)
        self.player.seek(self.item.start + Fraction(1, 2) / self.player.fps)
        self._back_to_words()

    def _on_frame(self, frame: QVideoFrame) -> None:
        """Frames before the player is positioned on the item are never shown: the first
        shown is the one whose own time is the item's first frame."""
        if not frame.isValid():
            return
        if self._showing:
            self.video.show_image(frame.toImage())
            return
        frame_us = 1_000_000 / self.player.fps
        if abs(frame.startTime() - self._start_ms * 1000) > 1.5 * frame_us:
            return  # a frame from before the seek (the recording's start, another item)
        self._showing = True
        self.video.show_image(frame.toImage())
        if self.item.end is None:
            QTimer.singleShot(int(STILL_SHOWN * 1000 / self._rate), self._pause_on_item)
        else:
            self.player.play(self._rate)

    def _on_position_changed(self, millis: int) -> None:
        end = self.item.end
        if end is not None and self.player.playing and Fraction(millis, 1000) >= end:
            self._pause_on_item()

    def _pause_on_item(self) -> None:
        self.player.pause()
        self.caption.setText(self.item.caption)
        self.prompt.setText(self.item.prompt)

    def _back_to_words(self) -> None:
        self.activateWindow()
        self.words.setFocus(Qt.FocusReason.OtherFocusReason)

    def save_words(self) -> None:
        """The words box's text is kept for this item (and stored once, or again if changed)."""
        text = self.words.toPlainText().strip()
        self.words_of[self.index] = text
        if not text or self._sent.get(self.index) == text:
            return  # stored already, or on its way
        index = self.index
        self._sent[index] = text

        def not_stored(message: str) -> None:
            self._sent.pop(index, None)
            show_error(self, message)

        op = add_parent_words(self.session_id, self.item.ref, text)
        CaseOp(self, self.case, op).success(lambda _: self.saved.__setitem__(index, text)).failure(
            not_stored
        ).run()

    def _may_leave_item(self) -> bool:
        """Leaving an item with nothing written asks first."""
        if self.words.toPlainText().strip() or self.words_of.get(self.index):
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Shared review",
            "Nothing is written for this moment. Go on without the parent's words?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("emptyWordsDialog")
        go_on = box.addButton("Go on", QMessageBox.ButtonRole.AcceptRole)
        stay = box.addButton("Stay and write", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.exec()
        return box.clickedButton() is go_on

    def previous_item(self) -> None:
        if self.index > 0 and self._may_leave_item():
            self.save_words()
            self.show_item(self.index - 1)
        else:
            self._back_to_words()

    def next_item(self) -> None:
        if not self._may_leave_item():
            self._back_to_words()
            return
        self.save_words()
        if self.index + 1 < len(self.items):
            self.show_item(self.index + 1)
        else:
            self.finish()

    def finish(self) -> None:
        """The end: says whose words were kept, for how many of the items."""
        self.player.pause()
        wait_for_operations()  # the last words' save delivers first: say only what is stored
        kept = len([i for i in range(len(self.items)) if self.saved.get(i)])
        self.caption.setText("Thank you.")
        self.prompt.setText(
            f"The parent's words are saved for {kept} of {len(self.items)} moments."
        )
        self.words.clear()
        self._show_dots()
        self.buttons["previous"].setEnabled(True)

    # --- text size -----------------------------------------------------------------------

    def resize_text(self, step: int) -> None:
        self.text_size = max(16, min(self.text_size + step, 64))
        self._apply_text_size()

    def _apply_text_size(self) -> None:
        self.caption.setFont(QFont(self.font().family(), self.text_size, QFont.Weight.Bold))
        self.prompt.setFont(QFont(self.font().family(), int(self.text_size * 0.7)))
        self.words.setFont(QFont(self.font().family(), 16))

    # --- leaving -------------------------------------------------------------------------

    def leave(self) -> None:
        """The practitioner's passphrase ends the shared review."""
        secret, ok = QInputDialog.getText(
            self, "Leave shared review", "Your passphrase:", QLineEdit.EchoMode.Password
        )
        if ok:
            self.try_leave(secret)

    def try_leave(self, secret: str) -> None:
        library, name = self.case.session.library, self.case.session.name
        self.jobs.start(
            "Checking the passphrase",
            lambda _: library.unlock(name, secret),
            lambda _: self._close_for_good(),
            lambda message: show_error(self, message),
        )

    def _close_for_good(self) -> None:
        self.save_words()
        self.player.unload()
        self._may_close = True
        self.close()
        self.finished.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self._may_close:
            super().closeEvent(event)
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()  # no way out without the passphrase
        else:
            super().keyPressEvent(event)
