"""Undo history bounded by memory, not by a number of steps, and the History panel that shows it.

A photo's history is its QUndoStack (PhotoDocument.undo_stack). Its size is what its commands hold: the compressed
XOR boxes of mask steps, plus the spline regions spline steps keep on either side (each region counted once however
many steps share it, see `command_regions`). When a push takes a stack over its limit, the oldest steps are dropped
until it is at TRIM_TO of the limit (so that trimming is rare, not one step per push).

QUndoStack cannot drop its oldest commands (setUndoLimit counts steps and only works on an empty stack), so
`drop_oldest` rebuilds it: it clones the commands it keeps, clears the stack and pushes the clones back *silently*
(their redo() and undo() do nothing while the stack is rebuilt, so the mask is untouched), then puts the index and
the clean state back where they were. The stack object stays the same, so the undo group, its actions and the panel
keep following it.
"""

from __future__ import annotations

from collections.abc import Iterable

import shiboken6
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QLabel, QUndoView, QVBoxLayout, QWidget

from skinseg_core.contours import Region

MB = 1024 * 1024
DEFAULT_PHOTO_LIMIT_MB = 256  # per photo (Edit › Preferences)
MIN_PHOTO_LIMIT_MB, MAX_PHOTO_LIMIT_MB = 1, 8192
DEFAULT_TOTAL_LIMIT_MB = 1024  # all open photos together: the photos not shown give up their oldest steps first
TRIM_TO = 0.75  # a stack over its limit is trimmed to this part of it
COMMAND_OVERHEAD = 512  # bytes a step costs besides its data (the Python and Qt objects)


def region_bytes(region: Region) -> int:
    size = sum(curve.points.nbytes + curve.corners.nbytes for curve in region.curves())
    return size + (region.pixels.nbytes if region.pixels is not None else 0)


def command_regions(command: QUndoCommand) -> Iterable[Region]:
    for splines in (getattr(command, "splines_before", None), getattr(command, "splines_after", None)):
        if splines:
            yield from splines


def commands(stack: QUndoStack) -> list[QUndoCommand]:
    return [stack.command(i) for i in range(stack.count())]


def history_bytes(stack: QUndoStack) -> int:
    """Bytes the stack's steps hold (shared spline regions counted once)."""
    return _bytes(commands(stack))


def _bytes(steps: Iterable[QUndoCommand]) -> int:
    seen: set[int] = set()
    total = 0
    for command in steps:
        total += COMMAND_OVERHEAD + int(getattr(command, "nbytes", 0))
        for region in command_regions(command):
            if id(region) not in seen:
                seen.add(id(region))
                total += region_bytes(region)
    return total


def drop_oldest(stack: QUndoStack, count: int) -> int:
    """Drop the `count` oldest steps (never one that is undone: those are redo steps above the index). Returns how
    many were dropped."""
    steps = commands(stack)
    index = stack.index()
    count = max(0, min(count, index))
    if count == 0:
        return 0
    clean = stack.cleanIndex()
    kept = [command.clone() for command in steps[count:]]
    for command in kept:
        command.silent = True
    stack.clear()  # (which leaves the stack clean at index 0)
    if clean < count:
        stack.resetClean()  # the clean state was among the dropped steps, or there was none
    for position, command in enumerate(kept):
        if clean >= count and position == clean - count:
            stack.setClean()
        stack.push(command)
    if clean >= count and clean - count == len(kept):
        stack.setClean()
    stack.setIndex(index - count)
    for command in kept:
        command.silent = False
    return count


def trim(stack: QUndoStack, limit: int, goal: float | None = None) -> int:
    """Drop the oldest steps while the stack holds more than `limit` bytes, down to `goal` (TRIM_TO of the limit
    unless given; the newest step always stays). Returns how many steps were dropped."""
    steps = commands(stack)
    if not steps or _bytes(steps) <= limit:
        return 0
    goal = limit * TRIM_TO if goal is None else goal
    # Walk from the newest step back, counting shared regions once, until the next older step would not fit.
    seen: set[int] = set()
    total = 0
    keep_from = len(steps)
    for position in range(len(steps) - 1, -1, -1):
        command = steps[position]
        size = COMMAND_OVERHEAD + int(getattr(command, "nbytes", 0))
        fresh = [r for r in command_regions(command) if id(r) not in seen]
        size += sum(region_bytes(r) for r in {id(r): r for r in fresh}.values())
        if total + size > goal and position < len(steps) - 1:
            break
        total += size
        seen.update(id(r) for r in fresh)
        keep_from = position
    return drop_oldest(stack, keep_from)


def trim_all(stacks: list[QUndoStack], current: QUndoStack | None, limit: int) -> int:
    """Keep all the stacks together within `limit` bytes: the largest stacks of photos not shown give up their
    oldest steps first, the shown photo's last. Returns how many steps were dropped."""
    sized = [(history_bytes(stack), stack) for stack in stacks]
    total = sum(size for size, _ in sized)
    if total <= limit:
        return 0
    dropped = 0
    goal = limit * TRIM_TO
    for size, stack in sorted(sized, key=lambda item: (item[1] is current, -item[0])):
        if total <= goal:
            break
        dropped += trim(stack, 0, max(0.0, size - (total - goal)))
        total += history_bytes(stack) - size
    return dropped


def format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


class HistoryPanel(QWidget):
    """The History dock: the active photo's steps (QUndoView on the window's undo group) and the memory they use."""

    def __init__(self, group: QUndoGroup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history_panel")
        self.group = group
        self.limit = DEFAULT_PHOTO_LIMIT_MB * MB
        self.view = QUndoView(group)
        self.view.setObjectName("undo_view")
        self.view.setEmptyLabel("Opened")
        self.memory_label = QLabel(objectName="history_memory")
        self.memory_label.setEnabled(False)  # secondary text
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.memory_label)
        self._stack: QUndoStack | None = None
        group.activeStackChanged.connect(self._follow)
        self._follow(group.activeStack())

    def set_limit(self, limit: int) -> None:
        self.limit = limit
        self.refresh()

    def _follow(self, stack: QUndoStack | None) -> None:
        if self._stack is not None and shiboken6.isValid(self._stack):
            self._stack.indexChanged.disconnect(self.refresh)
        self._stack = stack
        if stack is not None:
            stack.indexChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        stack = self._stack
        if stack is not None and not shiboken6.isValid(stack):  # its photo was closed
            stack = self._stack = None
        used = history_bytes(stack) if stack is not None else 0
        steps = stack.count() if stack is not None else 0
        # The stack's parent is its photo (PhotoDocument), which knows its limit.
        limit = int(getattr(stack.parent(), "history_limit", self.limit)) if stack is not None else self.limit
        self.memory_label.setText(f"{steps} steps, {format_bytes(used)} of {format_bytes(limit)}")
        tip = (f"This photo's undo history holds {format_bytes(used)} ({steps} steps, kept as compressed mask "
               f"differences). Beyond {format_bytes(limit)} the oldest steps are dropped "
               "(Edit › Preferences sets the limit).")
        self.memory_label.setToolTip(tip)
        self.view.setToolTip(tip)
