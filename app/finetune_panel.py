"""The Fine-tune dock: live progress (epoch, loss, held-out Jaccard, a plot, time remaining, Cancel), then the
comparison of the model in use with the new one on the held-out corrected photos, and Adopt or Discard."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

LOSS_COLOUR = QColor("#e67e22")
JACCARD_COLOUR = QColor("#2e86de")


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"


class TrainingPlot(QWidget):
    """Training loss and held-out Jaccard per epoch, both on a 0..1 axis (the Jaccard loss is 1 - soft Jaccard)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_plot")
        self.setMinimumSize(220, 140)
        self.losses: list[tuple[int, float]] = []
        self.jaccards: list[tuple[int, float]] = []
        self.epochs = 1

    def clear(self, epochs: int = 1) -> None:
        self.losses, self.jaccards, self.epochs = [], [], max(1, epochs)
        self.update()

    def add_epoch(self, epoch: int, epochs: int, loss: float, jaccard: float | None) -> None:
        self.epochs = max(1, epochs)
        self.losses.append((epoch, loss))
        if jaccard is not None:
            self.jaccards.append((epoch, jaccard))
        self.update()

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        plot = QRectF(self.rect()).adjusted(30, 8, -8, -28)
        grid = QColor(text)
        grid.setAlpha(50)
        painter.setPen(QPen(grid, 1))
        for i in range(5):
            y = plot.bottom() - plot.height() * i / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(text)
        painter.drawText(QRectF(0, plot.top() - 6, 26, 12), Qt.AlignmentFlag.AlignRight, "1")
        painter.drawText(QRectF(0, plot.bottom() - 6, 26, 12), Qt.AlignmentFlag.AlignRight, "0")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), 12), Qt.AlignmentFlag.AlignRight,
                         f"epoch {self.epochs}")

        def point(epoch: int, value: float) -> QPointF:
            x = plot.left() + plot.width() * (epoch / self.epochs)
            return QPointF(x, plot.bottom() - plot.height() * min(1.0, max(0.0, value)))

        for series, colour in ((self.losses, LOSS_COLOUR), (self.jaccards, JACCARD_COLOUR)):
            if not series:
                continue
            path = QPainterPath(point(*series[0]))
            for epoch, value in series[1:]:
                path.lineTo(point(epoch, value))
            painter.setPen(QPen(colour, 2))
            painter.drawPath(path)
            for epoch, value in series:
                painter.drawEllipse(point(epoch, value), 2.5, 2.5)
        legend_y = plot.bottom() + 14
        for i, (label, colour) in enumerate((("loss", LOSS_COLOUR), ("held-out Jaccard", JACCARD_COLOUR))):
            x = plot.left() + i * 70
            painter.setPen(QPen(colour, 3))
            painter.drawLine(QPointF(x, legend_y + 6), QPointF(x + 12, legend_y + 6))
            painter.setPen(text)
            painter.drawText(QPointF(x + 16, legend_y + 10), label)
        painter.end()


class FinetunePanel(QWidget):
    cancel_requested = Signal()
    adopt_requested = Signal()
    discard_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("finetune_panel")
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)

        # ---- progress page ----
        self.progress_page = QWidget()
        progress_layout = QVBoxLayout(self.progress_page)
        self.stage_label = QLabel("Starting…", objectName="finetune_stage")
        self.stage_label.setWordWrap(True)
        self.progress_bar = QProgressBar(objectName="finetune_progress")
        self.epoch_label = QLabel("Epoch —", objectName="finetune_epoch")
        self.loss_label = QLabel("Loss —", objectName="finetune_loss")
        self.jaccard_label = QLabel("Held-out Jaccard —", objectName="finetune_jaccard")
        self.remaining_label = QLabel("Time remaining —", objectName="finetune_remaining")
        self.plot = TrainingPlot(self)
        self.cancel_button = QPushButton("Cancel", objectName="finetune_cancel")
        self.cancel_button.setToolTip("Stop fine-tuning; the model in use stays as it is")
        self.cancel_button.clicked.connect(self.cancel_requested)
        for widget in (self.stage_label, self.progress_bar, self.epoch_label, self.loss_label, self.jaccard_label,
                       self.remaining_label, self.plot):
            progress_layout.addWidget(widget)
        progress_layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        progress_layout.addStretch(1)
        self.stack.addWidget(self.progress_page)

        # ---- comparison page ----
        self.compare_page = QWidget()
        compare_layout = QVBoxLayout(self.compare_page)
        self.summary_label = QLabel(objectName="finetune_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        compare_layout.addWidget(self.summary_label)
        self.rows = QWidget(objectName="finetune_rows")
        self.rows_layout = QGridLayout(self.rows)
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setWidget(self.rows)
        compare_layout.addWidget(scroller, 1)
        buttons = QHBoxLayout()
        self.discard_button = QPushButton("Discard", objectName="finetune_discard")
        self.discard_button.setToolTip("Forget the new model; the model in use stays")
        self.adopt_button = QPushButton("Adopt New Model", objectName="finetune_adopt")
        self.adopt_button.setToolTip("Use the new model from now on (Model › Model Versions… goes back)")
        self.discard_button.clicked.connect(self.discard_requested)
        self.adopt_button.clicked.connect(self.adopt_requested)
        buttons.addStretch(1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.adopt_button)
        compare_layout.addLayout(buttons)
        self.stack.addWidget(self.compare_page)

    # ---- progress ----
    def start(self, photos: int, epochs: int) -> None:
        self.stack.setCurrentWidget(self.progress_page)
        self.stage_label.setText(f"Fine-tuning on {photos} corrected photos…")
        self.progress_bar.setRange(0, 0)
        for label, text in ((self.epoch_label, "Epoch —"), (self.loss_label, "Loss —"),
                            (self.jaccard_label, "Held-out Jaccard —"), (self.remaining_label, "Time remaining —")):
            label.setText(text)
        self.plot.clear(epochs)
        self.cancel_button.setEnabled(True)

    def cancelling(self) -> None:
        self.stage_label.setText("Stopping…")
        self.cancel_button.setEnabled(False)

    def show_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "preparing":
            self.stage_label.setText(f"Reading {event.get('photos')} corrected photos…")
        elif kind == "step":
            epochs, steps = int(event["epochs"]), max(1, int(event["steps"]))
            self.stage_label.setText("Training…")
            self.progress_bar.setRange(0, epochs * steps)
            self.progress_bar.setValue((int(event["epoch"]) - 1) * steps + int(event["step"]))
            self.epoch_label.setText(f"Epoch {event['epoch']} of at most {epochs}")
            self.loss_label.setText(f"Loss {float(event['loss']):.4f}")
        elif kind == "epoch":
            epochs = int(event["epochs"])
            self.progress_bar.setRange(0, epochs)
            self.progress_bar.setValue(int(event["epoch"]))
            self.epoch_label.setText(f"Epoch {event['epoch']} of at most {epochs}")
            self.loss_label.setText(f"Loss {float(event['loss']):.4f}")
            jaccard, best = event.get("val_jaccard"), event.get("best_val_jaccard")
            if jaccard is not None:
                self.jaccard_label.setText(f"Held-out Jaccard {jaccard:.4f} (best {best:.4f}, epoch "
                                           f"{event.get('best_epoch')})")
            self.remaining_label.setText(f"Time remaining at most {format_duration(event.get('remaining_s'))}")
            self.plot.add_epoch(int(event["epoch"]), epochs, float(event["loss"]), jaccard)
        elif kind == "evaluating":
            self.stage_label.setText(f"Comparing the models on held-out photo {event['photo']} of "
                                     f"{event['photos']}…")

    # ---- comparison ----
    def show_comparison(self, comparison: dict[str, Any], result_dir: Path, active_name: str) -> None:
        summary = comparison["summary"]
        active, new = summary["active"], summary["new"]
        better = new["jaccard"] > active["jaccard"]
        verdict = ("The new model is better on the held-out photos." if better else
                   "The new model is <b>not</b> better on the held-out photos; keeping the model in use is advised.")
        self.summary_label.setText(
            f"<p>On {len(comparison['photos'])} held-out corrected photos (not trained on; "
            f"{len(comparison['train_photos'])} were trained on, best epoch {comparison['best_epoch']}):</p>"
            "<table cellspacing=6><tr><th></th><th>Jaccard</th><th>Dice</th></tr>"
            f"<tr><td>In use ({active_name})</td><td>{active['jaccard']:.4f}</td><td>{active['dice']:.4f}</td></tr>"
            f"<tr><td>New</td><td>{new['jaccard']:.4f}</td><td>{new['dice']:.4f}</td></tr></table>"
            f"<p>{verdict}</p>"
        )
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for column, title in enumerate(("Photo", "In use", "New")):
            self.rows_layout.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        for row, photo in enumerate(comparison["photos"], start=1):
            for column, key in enumerate(("photo", "active", "new")):
                label = QLabel(objectName=f"thumb_{row - 1}_{key}")
                label.setPixmap(QPixmap(str(result_dir / photo["thumbs"][key])))
                if key == "photo":
                    label.setToolTip(Path(photo["photo"]).name)
                else:
                    label.setToolTip(f"Jaccard {photo[key]['jaccard']:.4f}, Dice {photo[key]['dice']:.4f}")
                self.rows_layout.addWidget(label, 2 * row - 1, column)
                caption = (Path(photo["photo"]).name if key == "photo"
                           else f"J {photo[key]['jaccard']:.3f} · D {photo[key]['dice']:.3f}")
                self.rows_layout.addWidget(QLabel(caption), 2 * row, column)
        self.adopt_button.setEnabled(True)
        self.discard_button.setEnabled(True)
        self.stack.setCurrentWidget(self.compare_page)
