"""Undoable changes to a PhotoDocument (one command per user action: a slider drag pushes one on release)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from app.document import PhotoDocument


class SetThresholdCommand(QUndoCommand):
    def __init__(self, document: PhotoDocument, old_step: int, new_step: int) -> None:
        super().__init__(f"Threshold {new_step / 100:.2f}")
        self.document = document
        self.old_step = old_step
        self.new_step = new_step

    def redo(self) -> None:
        self.document.set_threshold_step(self.new_step)

    def undo(self) -> None:
        self.document.set_threshold_step(self.old_step)
