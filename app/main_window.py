"""The main window: actions, menus, toolbar, docks and status bar, wired to the documents, canvas and workers.

It holds no segmentation logic: maps come from app.segmentation (workers around skinseg_core), overlays from
app.canvas.overlay, files from skinseg_core (sidecar, export).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import qtawesome as qta
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QUndoGroup,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QToolButton,
    QWidget,
)

import skinseg_core
from skinseg_core import paths, versions
from skinseg_core.devices import DEVICE_CHOICES, available_devices
from skinseg_core.errors import ImageReadError, SkinSegError
from skinseg_core.imageio import PHOTO_SUFFIXES, Photo, read_photo
from skinseg_core.overlay import OverlayStyle
from skinseg_core.probmap import THRESHOLD_STEPS, ProbabilityMap
from skinseg_core.finetune_job import APP_SETTINGS, JobSpec, check_enough
from skinseg_core.sidecar import CORRECTED, NOT_SEGMENTED

from app.about import AboutDialog
from app.autosave import Autosaver
from app.canvas.tools import BrushTool, PolygonTool, SplineTool
from app.correct_panel import CorrectPanel
from app.editing import MaskEditor
from app.canvas import PhotoScene, PhotoView
from app.canvas.overlay import OverlayRenderer, rgb_image
from app.commands import SetThresholdCommand
from app.display_panel import DisplayPanel
from app.document import PhotoDocument, Prediction
from app.errors import show_error
from app.export_dialog import ExportDialog
from app.history import HistoryPanel
from app.finetune_panel import FinetunePanel
from app.finetuning import FinetuneController, FinetuneResult, discard
from app.history import DEFAULT_TOTAL_LIMIT_MB, MB, trim_all
from app.identity import APP_NAME, app_icon
from app.exporting import build_job, run_export
from app.opening import expand_paths, no_photos_error
from app.preferences import PreferencesDialog
from app.prefetch import PhotoCache
from app.photo_list import THUMB_SIZE, UNREADABLE, PhotoList, make_thumbnails
from app.segmentation import SegmentationService
from app.settings import THEMES, AppSettings, default_settings
from app.theme import apply_theme
from app.versions_dialog import ModelVersionsDialog
from app.workers import Worker, WorkerPool

log = logging.getLogger(__name__)

DEVICE_LABELS = {"auto": "Automatic (CUDA, then Apple MPS, then CPU)", "cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)",
                 "mps": "Apple MPS"}
PLACEHOLDER = "Open a folder of photos (File › Open Folder…) or drop photos or a folder here."


def load_full_photo(path: Path) -> tuple[Path, Photo, QImage]:
    """Worker function: every pixel of the photo, and the QImage the canvas shows, made here so that a 50 MP photo
    costs the GUI thread no conversion."""
    photo = read_photo(path)
    return path, photo, rgb_image(photo.rgb)


def screen_long_side() -> int:
    """Display resolution in physical pixels: the primary screen's long side (at least 1600, at most 3840)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return 1600
    size = screen.size()
    return int(min(3840, max(1600, max(size.width(), size.height()) * screen.devicePixelRatio())))


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: QSettings | None = None,
        model_path: Path | None = None,
        display_long_side: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.settings = AppSettings(settings if settings is not None else default_settings())
        self.display_long_side = display_long_side or screen_long_side()
        self.io_pool = WorkerPool("io", 2, self)
        self.photo_cache = PhotoCache(self.io_pool, self.display_long_side, self)
        self.photo_cache.loaded.connect(self._photo_loaded)
        self.photo_cache.failed.connect(self._photo_load_failed)
        self.service = SegmentationService(model_path, "auto", self, face_gate=self.settings.face_gate,
                                           network=self.settings.network)
        self._apply_device_preference()

        self.documents: dict[Path, PhotoDocument] = {}
        self.document: PhotoDocument | None = None
        self.undo_group = QUndoGroup(self)
        self._full_worker: Worker | None = None
        self._full_worker_path: Path | None = None
        self._thumb_worker: Worker | None = None
        self._export_worker: Worker | None = None
        self._drag_origin: int | None = None
        self._icon_actions: list[tuple[QAction | QToolButton, str]] = []
        self._shut_down = False
        self._applying_default = False
        self.last_export_folders: list[Path] = []
        self.finetune_settings = APP_SETTINGS  # tests shorten it
        self.finetune = FinetuneController(self)
        self.finetune_result: FinetuneResult | None = None

        self.scene = PhotoScene()
        self.view = PhotoView(self.scene, self)
        self.view.placeholder = PLACEHOLDER
        self.renderer = OverlayRenderer()
        self.setCentralWidget(self.view)

        self.editor = MaskEditor(self)
        self.editor.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.editor.splines_ready.connect(self._splines_ready)
        self.history_total_limit = DEFAULT_TOTAL_LIMIT_MB * MB  # all photos' undo histories together
        self.autosaver = Autosaver(self.service.sidecar, self.io_pool, self)
        self.autosaver.effort_changed.connect(self._effort_changed)
        self.autosaver.failed.connect(lambda error: show_error(self, error, "save the corrections"))
        self.editor.edited.connect(self.autosaver.record_effort)
        self.tools = {
            "brush": BrushTool(self.view, self.editor),
            "eraser": BrushTool(self.view, self.editor, erase=True),
            "polygon": PolygonTool(self.view, self.editor),
            "spline": SplineTool(self.view, self.editor),
        }

        self.photo_list = PhotoList(self)
        self.photo_list.photo_activated.connect(self.show_photo)
        self.photos_dock = self._dock("Photos", "photos_dock", self.photo_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.photos_dock.setMinimumWidth(THUMB_SIZE + 170)

        self.panel = DisplayPanel(self.settings.overlay_style(), self)
        self.panel.style_changed.connect(self._style_changed)
        self.panel.threshold_previewed.connect(self._threshold_previewed)
        self.panel.threshold_committed.connect(self._threshold_committed)
        self.display_dock = self._dock("Display", "display_dock", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.history_panel = HistoryPanel(self.undo_group, self)
        self.history_panel.set_limit(self.settings.history_limit_mb * MB)
        self.undo_view = self.history_panel.view
        self.history_dock = self._dock("History", "history_dock", self.history_panel,
                                       Qt.DockWidgetArea.RightDockWidgetArea)

        self._create_actions()
        self.correct_panel = CorrectPanel(self.editor, self.tool_actions, self.subtract_action,
                                          self.fill_holes_action, self.remove_islands_action, self)
        scroller = QScrollArea()  # the window may be short: the panel scrolls rather than forcing a height
        scroller.setWidget(self.correct_panel)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.correct_dock = self._dock("Correct", "correct_dock", scroller, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.history_dock, self.correct_dock)
        self.finetune_panel = FinetunePanel(self)
        self.finetune_dock = self._dock("Fine-tune", "finetune_dock", self.finetune_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.finetune_dock.hide()
        self._connect_finetune()
        self._create_menus()
        self._create_toolbar()
        self._create_status_bar()
        self._connect_service()

        self.view.zoom_changed.connect(self._zoom_changed)
        self.view.refused.connect(lambda text: self.statusBar().showMessage(text, 6000))
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self.apply_theme(self.settings.theme)

        self.resize(1280, 820)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.finetune_dock.hide()  # shown by a job only, whatever the last session's layout
        self._update_actions()

    # ------------------------------------------------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _action(
        self,
        text: str,
        slot: Callable[..., object] | None = None,
        icon: str | None = None,
        shortcuts: Sequence[QKeySequence | QKeySequence.StandardKey | str] = (),
        tip: str = "",
        checkable: bool = False,
        name: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name or text.lower().replace(" ", "_").replace("…", "").strip("_"))
        keys: list[QKeySequence] = []
        for shortcut in shortcuts:
            if isinstance(shortcut, QKeySequence.StandardKey):
                keys.extend(QKeySequence.keyBindings(shortcut))
            else:
                keys.append(QKeySequence(shortcut))
        if keys:
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        label = tip or text.replace("…", "").replace("&", "")
        shown = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys[:2])
        action.setToolTip(f"{label} ({shown})" if shown else label)
        action.setStatusTip(label)
        action.setCheckable(checkable)
        if icon:
            self._icon_actions.append((action, icon))
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even when the toolbar and menus are hidden
        return action

    def _create_actions(self) -> None:
        a = self._action
        self.open_files_action = a("&Open Photos…", self.choose_files, "mdi6.image-multiple-outline",
                                   [QKeySequence.StandardKey.Open], "Open one or more photos")
        self.open_folder_action = a("Open &Folder…", self.choose_folder, "mdi6.folder-open-outline",
                                    ["Ctrl+Shift+O"], "Open a folder of photos")
        self.export_action = a("&Export Masks…", self.export_masks_dialog, "mdi6.export", ["Ctrl+E"],
                               "Export masks as PNG, COCO and labelme files")
        self.quit_action = a("&Quit", self.close, None, [QKeySequence.StandardKey.Quit])
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        for extra in ("Ctrl+Shift+Z", "Ctrl+Y"):
            if QKeySequence(extra) not in redo_keys:
                redo_keys.append(QKeySequence(extra))
        self.redo_action.setShortcuts(redo_keys)
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        self._icon_actions += [(self.undo_action, "mdi6.undo"), (self.redo_action, "mdi6.redo")]

        self.previous_action = a("&Previous Photo", lambda: self.photo_list.step(-1), "mdi6.chevron-left",
                                 ["A", "Left"])
        self.next_action = a("&Next Photo", lambda: self.photo_list.step(1), "mdi6.chevron-right", ["D", "Right"])

        self.fit_action = a("&Fit to Window", self.view.fit, "mdi6.fit-to-screen-outline", ["F", "Ctrl+0"])
        self.actual_size_action = a("&Actual Pixels (100 %)", self.view.actual_size, "mdi6.numeric-1-box-outline",
                                    ["1", "Ctrl+1"], "Zoom to 100 % (one photo pixel per screen pixel)")
        self.zoom_in_action = a("Zoom &In", lambda: self.view.zoom_by(1.25), "mdi6.magnify-plus-outline",
                                [QKeySequence.StandardKey.ZoomIn, "+"])
        self.zoom_out_action = a("Zoom &Out", lambda: self.view.zoom_by(0.8), "mdi6.magnify-minus-outline",
                                 [QKeySequence.StandardKey.ZoomOut, "-"])
        self.overlay_action = a("Show &Overlay", self._overlay_toggled, "mdi6.layers-outline", ["H"],
                                "Show or hide the skin overlay", checkable=True, name="show_overlay")
        self.uncertainty_action = a("Show &Uncertain Pixels", self._uncertainty_toggled, "mdi6.blur", ["U"],
                                    "Highlight pixels within ±0.1 of the threshold", checkable=True,
                                    name="show_uncertainty")
        self.contour_action = a("Show as &Contour", self._contour_toggled, "mdi6.vector-polygon", ["C"],
                                "Outline the skin instead of filling it", checkable=True, name="show_contour")
        self.compare_action = a("Show the Model's &Prediction", self._compare_toggled, "mdi6.compare", ["M"],
                                "Before / after: show the model's own mask instead of your correction",
                                checkable=True, name="show_prediction")

        self.segment_action = a("&Segment Photo", self.segment_current, "mdi6.auto-fix", ["S", "Ctrl+R"],
                                "Segment the open photo")
        self.segment_all_action = a("Segment &All", self.segment_all, "mdi6.image-filter-center-focus-weak",
                                    ["Ctrl+Shift+R"], "Segment every photo in the list, in the background")
        self.cancel_action = a("&Cancel", self.cancel_jobs, "mdi6.close-circle-outline", ["Esc"],
                               "Stop Segment All or an export")
        self.auto_segment_action = a("Segment Photos When &Opened", self._auto_segment_toggled, None, [],
                                     checkable=True, name="auto_segment")
        self.auto_segment_action.setChecked(self.settings.auto_segment)
        self.face_gate_action = a("Face Colour &Gate", self._face_gate_toggled, None, [],
                                  "Where frontal faces are found, take away colours far from their skin (clothing, "
                                  "walls). Turn it off if it takes diseased skin near a face.",
                                  checkable=True, name="face_gate")
        self.face_gate_action.setChecked(self.settings.face_gate)
        # Which of the model's two networks runs: chosen by the faces found, or by the user, who knows whether a photo
        # without a face in view is a close-up or shows people (docs/adr/0034, 0036).
        self.network_group = QActionGroup(self)
        self.network_actions: dict[str, QAction] = {}
        for network, label, tip in (
                ("auto", "Chosen by the &Faces Found", "The network for photos of people where a large face is found, "
                 "the close-up network elsewhere"),
                ("clinical", "&Close-ups", "Always the close-up network: clinical photos, a lesion on a face"),
                ("people", "&People in Scenes", "Always the network for photos of people: bodies, arms, hands and "
                 "legs with no face in view")):
            action = a(label, None, None, [], tip, checkable=True, name=f"network_{network}")
            action.setChecked(network == self.service.network)
            # triggered, not toggled: the action a choice unchecks must not choose again.
            action.triggered.connect(lambda _=False, n=network: self.set_network(n))
            self.network_group.addAction(action)
            self.network_actions[network] = action
        self.preferences_action = a("&Preferences…", self.show_preferences, "mdi6.cog-outline",
                                    [QKeySequence.StandardKey.Preferences, "Ctrl+,"], "Device, segmenting on open, "
                                    "default overlay and threshold")
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for name, text, icon, key, tip in (
            ("navigate", "&Navigate", "mdi6.cursor-default-outline", "V", "Look around: no editing tool"),
            ("brush", "&Brush", "mdi6.brush", "B", "Paint skin"),
            ("eraser", "&Eraser", "mdi6.eraser", "E", "Erase skin"),
            ("polygon", "&Polygon", "mdi6.vector-polygon-variant", "P", "Add (or cut out) a polygon"),
            ("spline", "&Splines", "mdi6.vector-curve", "N", "Edit the mask's outlines as smooth curves"),
        ):
            action = a(text, None, icon, [key], tip, checkable=True, name=f"tool_{name}")
            action.toggled.connect(lambda on, n=name: on and self.set_tool(n))
            self.tool_group.addAction(action)
            self.tool_actions[name] = action
        self.tool_actions["navigate"].setChecked(True)
        self.smaller_brush_action = a("S&maller Brush", lambda: self.editor.grow_brush(-1), None, ["["],
                                      "Make the brush smaller (or Ctrl+wheel)")
        self.bigger_brush_action = a("B&igger Brush", lambda: self.editor.grow_brush(1), None, ["]"],
                                     "Make the brush bigger (or Ctrl+wheel)")
        self.subtract_action = a("&Cut Out", self.editor.set_subtract, "mdi6.minus-box-outline", ["X"],
                                 "Polygons and new spline regions cut skin out instead of adding it (or hold Shift)",
                                 checkable=True, name="cut_out")
        self.editor.subtract_changed.connect(self.subtract_action.setChecked)
        self.fill_holes_action = a("&Fill Holes", self.editor.fill_holes, "mdi6.format-color-fill", [],
                                   "Make every hole inside the skin skin")
        self.remove_islands_action = a("&Remove Small Islands", self.remove_islands, "mdi6.dots-circle", [],
                                       "Remove skin regions smaller than the area set in the Correct panel")
        self.delete_point_action = a("&Delete Point or Region", self._delete_selected, "mdi6.delete-outline",
                                     ["Delete"], "Delete the selected spline point, or the selected region")
        self.corner_action = a("Sharp &Point", self._toggle_corner, "mdi6.vector-point", ["K"],
                               "Make the selected spline point a sharp corner, or smooth again")
        self.finetune_action = a("&Fine-tune on Corrected Photos…", self.start_finetune, "mdi6.school-outline", [],
                                 "Adapt the model to the corrected photos of the open folder, in the background")
        self.versions_action = a("Model &Versions…", self.show_versions, "mdi6.history", [],
                                 "Choose the model in use, or go back to an earlier version")
        self.restore_bundled_action = a("Restore &Bundled Model", self.restore_bundled, "mdi6.backup-restore", [],
                                        "Use the model shipped with SkinSeg again")
        self.about_action = a("&About SkinSeg", self.show_about, "mdi6.information-outline")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        style = self.panel.overlay_style
        for action, value in ((self.overlay_action, style.visible), (self.uncertainty_action, style.uncertainty),
                              (self.contour_action, style.contour and not style.fill)):
            action.blockSignals(True)
            action.setChecked(value)
            action.blockSignals(False)

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_files_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recent_menu")
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in (self.fill_holes_action, self.remove_islands_action, self.delete_point_action,
                       self.corner_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences_action)
        tools_menu = bar.addMenu("&Tools")
        for action in self.tool_actions.values():
            tools_menu.addAction(action)
        tools_menu.addSeparator()
        for action in (self.subtract_action, self.smaller_brush_action, self.bigger_brush_action):
            tools_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for action in (self.fit_action, self.actual_size_action, self.zoom_in_action, self.zoom_out_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.overlay_action, self.contour_action, self.uncertainty_action, self.compare_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.previous_action)
        view_menu.addAction(self.next_action)
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for theme in THEMES:
            action = QAction({"system": "Follow the System", "light": "Light", "dark": "Dark"}[theme], self)
            action.setCheckable(True)
            action.setObjectName(f"theme_{theme}")
            action.setChecked(theme == self.settings.theme)
            action.triggered.connect(lambda _=False, t=theme: self.set_theme(t))
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[theme] = action
        view_menu.addSeparator()
        view_menu.addAction(self.photos_dock.toggleViewAction())
        view_menu.addAction(self.display_dock.toggleViewAction())
        view_menu.addAction(self.correct_dock.toggleViewAction())
        view_menu.addAction(self.history_dock.toggleViewAction())

        segment_menu = bar.addMenu("&Segmentation")
        for action in (self.segment_action, self.segment_all_action, self.cancel_action):
            segment_menu.addAction(action)
        segment_menu.addSeparator()
        segment_menu.addAction(self.auto_segment_action)
        segment_menu.addAction(self.face_gate_action)
        self.network_menu = segment_menu.addMenu("&Network")
        for action in self.network_actions.values():
            self.network_menu.addAction(action)
        device_menu = segment_menu.addMenu("&Device")
        self.device_group = QActionGroup(self)
        self.device_actions: dict[str, QAction] = {}
        available = available_devices()
        for device in DEVICE_CHOICES:
            action = QAction(DEVICE_LABELS[device], self)
            action.setCheckable(True)
            action.setEnabled(device in available)
            action.setObjectName(f"device_{device}")
            action.setChecked(device == self.service.device)
            action.triggered.connect(lambda _=False, d=device: self.set_device(d))
            self.device_group.addAction(action)
            device_menu.addAction(action)
            self.device_actions[device] = action

        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.finetune_action)
        model_menu.addSeparator()
        model_menu.addAction(self.versions_action)
        model_menu.addAction(self.restore_bundled_action)
        view_menu.addAction(self.finetune_dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _create_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in (self.open_folder_action, self.open_files_action, None, self.previous_action,
                       self.next_action, None, self.segment_action, self.segment_all_action, None,
                       self.overlay_action, self.contour_action, self.uncertainty_action, self.compare_action, None,
                       self.fit_action, self.actual_size_action, self.zoom_in_action, self.zoom_out_action, None,
                       self.undo_action, self.redo_action, None, *self.tool_actions.values(), self.subtract_action,
                       None, self.export_action, self.finetune_action):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)

    def _create_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_bar = QProgressBar(objectName="job_progress")
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.hide()
        self.cancel_button = QToolButton(objectName="job_cancel")
        self.cancel_button.setDefaultAction(self.cancel_action)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.hide()
        self.model_label = QLabel(objectName="model_label")
        self.device_label = QLabel(objectName="device_label")
        self.zoom_label = QLabel("", objectName="zoom_label")
        self.zoom_label.setMinimumWidth(48)
        self.compare_label = QLabel(objectName="compare_label")
        self.compare_label.setStyleSheet("QLabel { background: #b03a2e; color: white; padding: 1px 8px; "
                                         "border-radius: 3px; }")
        self.compare_label.hide()
        bar.addPermanentWidget(self.compare_label)
        for widget in (self.progress_bar, self.cancel_button, self.model_label, self.device_label, self.zoom_label):
            bar.addPermanentWidget(widget)
        self._update_model_label()
        self.device_label.setText(self.service.device_description)
        self.device_label.setToolTip("The device the model runs on (Segmentation › Device)")

    def _connect_service(self) -> None:
        self.service.map_ready.connect(self._map_ready)
        self.service.failed.connect(self._segmentation_failed)
        self.service.batch_progress.connect(self._batch_progress)
        self.service.batch_finished.connect(self._batch_finished)
        self.service.device_changed.connect(self.device_label.setText)
        self.service.busy_changed.connect(self._busy_changed)

    # ------------------------------------------------------------------------------------------------------------
    # Themes, icons, settings
    # ------------------------------------------------------------------------------------------------------------

    def apply_theme(self, theme: str) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        dark = apply_theme(app, theme)
        self.view.set_dark(dark)
        colour = "#e6e6e6" if dark else "#303030"
        for action, name in self._icon_actions:
            action.setIcon(qta.icon(name, color=colour, color_disabled="#808080"))

    def set_theme(self, theme: str) -> None:
        self.settings.theme = theme
        self.theme_actions[theme].setChecked(True)
        self.apply_theme(theme)

    def _system_scheme_changed(self) -> None:
        if self.settings.theme == "system":
            self.apply_theme("system")

    def _apply_device_preference(self) -> None:
        try:
            self.service.set_device(self.settings.device)
        except SkinSegError as exc:  # e.g. CUDA chosen on another machine: fall back, and say so in the log
            log.warning("Device preference %r unavailable (%s); using auto", self.settings.device, exc)
            self.service.set_device("auto")

    def set_device(self, device: str) -> None:
        try:
            self.service.set_device(device)
        except SkinSegError as exc:
            self.device_actions[self.service.device].setChecked(True)
            show_error(self, exc, "use this device")
            return
        self.settings.device = device
        self.device_actions[device].setChecked(True)
        self.statusBar().showMessage(f"Segmenting on {self.service.device_description}", 4000)

    def _update_model_label(self) -> None:
        model = self.service.model
        if model is None:
            self.model_label.setText("No model — viewing only")
            self.model_label.setStyleSheet("color: #d64541; font-weight: bold")
            self.model_label.setToolTip(self.service.model_error or "")
        else:
            self.model_label.setText(f"Model: {self.model_title()}")
            self.model_label.setStyleSheet("")
            self.model_label.setToolTip(str(model.path))

    def model_title(self) -> str:
        """The model in use as the status bar names it: the version id of a fine-tuned version, or the name."""
        model = self.service.model
        if model is None:
            return "none"
        path = model.path.resolve()
        if path == paths.bundled_model_path().resolve():
            return f"{model.name} (bundled)"
        if path.parent.parent == paths.versions_dir().resolve():
            return f"{path.parent.name} (fine-tuned)"
        return model.name

    def show_preferences(self) -> PreferencesDialog:
        model = self.service.model
        dialog = PreferencesDialog(
            device=self.service.device, available=available_devices(), auto_segment=self.settings.auto_segment,
            style=self.panel.overlay_style, default_threshold=self.settings.default_threshold,
            model_threshold=model.threshold if model else 0.5, history_limit_mb=self.settings.history_limit_mb,
            parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.device_chosen.connect(self.set_device)
        dialog.auto_segment_changed.connect(self.auto_segment_action.setChecked)
        dialog.overlay_style_changed.connect(self._preferred_style_changed)
        dialog.default_threshold_changed.connect(self._default_threshold_changed)
        dialog.history_limit_changed.connect(self.set_history_limit)
        dialog.open()
        return dialog

    def _preferred_style_changed(self, style: OverlayStyle) -> None:
        current = self.panel.overlay_style
        self.panel.set_overlay_style(replace(style, visible=current.visible, uncertainty=current.uncertainty))
        self._style_changed(self.panel.overlay_style)

    def _default_threshold_changed(self, threshold: float | None) -> None:
        """Store it, and move every open photo whose threshold the user never set (its sidecar has none)."""
        self.settings.default_threshold = threshold
        self._applying_default = True
        try:
            for path, document in self.documents.items():
                if self.service.sidecar(path).record(path).threshold is None:
                    document.set_threshold_step(self._initial_step(path))
        finally:
            self._applying_default = False

    def _face_gate_toggled(self, on: bool) -> None:
        """Turn the model's face colour gate on or off, and make the open photos' maps again the new way."""
        if on == self.service.face_gate:  # setChecked from the saved setting while the window is built
            return
        self.settings.face_gate = on
        self.service.cancel_batch()
        self.service.set_face_gate(on)
        self._resegment_uncorrected()
        self.statusBar().showMessage(
            f"Face colour gate {'on' if on else 'off'}; re-segmenting the photos that are not corrected.", 8000)

    def set_network(self, network: str) -> None:
        """Run this network of the model's (inference.NETWORKS), and make the open photos' maps again with it."""
        self.network_actions[network].setChecked(True)
        if network == self.service.network:
            return
        self.settings.network = network
        self.service.cancel_batch()
        self.service.set_network(network)
        self._resegment_uncorrected()
        label = self.network_actions[network].text().replace("&", "")
        self.statusBar().showMessage(f"Network: {label.lower()}; re-segmenting the photos that are not corrected.",
                                     8000)

    def _auto_segment_toggled(self, on: bool) -> None:
        self.settings.auto_segment = on
        if on and self.document is not None:
            self._segment_if_needed(self.document.path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = self.settings.recent_folders()
        for folder in folders:
            action = self.recent_menu.addAction(str(folder))
            action.triggered.connect(lambda _=False, f=folder: self.open_paths([f]))
        if folders:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", self._clear_recent)
        self.recent_menu.setEnabled(bool(folders))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_folders()
        self._fill_recent_menu()

    # ------------------------------------------------------------------------------------------------------------
    # Opening photos
    # ------------------------------------------------------------------------------------------------------------

    def choose_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in PHOTO_SUFFIXES)
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", "", f"Photos ({patterns});;All files (*)")
        if files:
            self.open_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos")
        if folder:
            self.open_paths([Path(folder)])

    def open_paths(self, paths: Iterable[Path]) -> bool:
        """Open photos and folders (as from the menus or a drop). Returns False when nothing could be opened."""
        paths = list(paths)
        try:
            photos, folders = expand_paths(paths)
        except SkinSegError as exc:
            show_error(self, exc, "open the folder")
            return False
        if not photos:
            show_error(self, no_photos_error(paths), "open photos")
            return False
        for folder in folders:
            self.settings.add_recent_folder(folder)
        self._fill_recent_menu()
        self.set_photos(photos)
        return True

    def set_photos(self, photos: Sequence[Path]) -> None:
        self.service.cancel_batch()
        if self._thumb_worker is not None:
            self._thumb_worker.cancel()
        self.service.save_sidecars()
        self.documents.clear()
        self.document = None
        self.photo_cache.clear()
        statuses = {p: self.service.status(p) for p in photos}
        efforts = {p: self.service.sidecar(p).record(p).effort for p in photos if statuses[p] == CORRECTED}
        self.photo_list.set_photos(photos, statuses, efforts)
        worker = Worker(make_thumbnails, list(photos), THUMB_SIZE * 2)
        worker.signals.progress.connect(self._thumbnail_ready)
        self._thumb_worker = self.io_pool.start(worker, priority=-1)
        segmented = sum(1 for s in statuses.values() if s != NOT_SEGMENTED)
        self.statusBar().showMessage(f"{len(photos)} photos, {segmented} already segmented", 5000)
        self.photo_list.step(0)  # selects the first photo, which shows it
        self._update_actions()

    def _thumbnail_ready(self, item: tuple[Path, object]) -> None:
        path, rgb = item
        self.photo_list.set_thumbnail(path, rgb)  # type: ignore[arg-type]

    def show_photo(self, path: Path) -> None:
        if self.document is not None and self.document.path == path:
            return
        if self.document is not None:
            self.document.release_pixels()
        document = self.documents.get(path)
        if document is None:
            document = PhotoDocument(path, self._initial_step(path), self.display_long_side, self)
            document.image_changed.connect(self._document_image_changed)
            document.map_changed.connect(self._document_map_changed)
            document.threshold_changed.connect(self._document_threshold_changed)
            document.mask_changed.connect(self._document_mask_changed)
            document.mask_committed.connect(self._document_mask_committed)
            document.splines_changed.connect(self._document_splines_changed)
            document.history_pushed.connect(self._history_pushed)
            document.set_history_limit(self.settings.history_limit_mb * MB)
            self.autosaver.watch(document)
            self.documents[path] = document
        self.document = document
        self.editor.document = document
        if self.view.tool is not None:
            self.view.tool.cancel()
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        self.panel.set_threshold_step(document.threshold_step)
        self.panel.set_area(None)
        self.renderer.set_map(None)
        self.scene.clear_photo()
        self.view.placeholder = f"Loading {path.name}…"
        self.view.viewport().update()
        self._update_title()

        photo = self.photo_cache.get(path)
        if photo is not None:  # prefetched: shown at once
            self._photo_loaded(path, photo)
        else:
            self.photo_cache.request(path)

        prob = self.service.cached(path)
        if prob is not None:
            document.set_map(prob)
        self._restore_correction(document, prob.full_size if prob is not None else None)
        if prob is None and not document.corrected:
            self._segment_if_needed(path)
        self._update_actions()
        self._tool_document_changed()

    def _initial_step(self, path: Path) -> int:
        record = self.service.sidecar(path).record(path)
        threshold = record.threshold
        if threshold is None:
            threshold = self.settings.default_threshold
        if threshold is None:
            threshold = self.service.model.threshold if self.service.model else 0.5
        return round(threshold * THRESHOLD_STEPS)

    def _photo_loaded(self, path: Path, photo: Photo) -> None:
        if self.document is None or self.document.path != path or self.document.rgb is not None:
            return
        self.document.set_image(photo.rgb, photo.full_size)
        self._restore_correction(self.document, photo.full_size)
        self._load_full_resolution_if_needed()
        self._prefetch_neighbours(path)

    def _prefetch_neighbours(self, path: Path) -> None:
        photos = self.photo_list.photos()
        if path not in photos:
            return
        index = photos.index(path)
        self.photo_cache.prefetch(photos[i] for i in (index + 1, index - 1) if 0 <= i < len(photos))

    def _zoom_changed(self, percent: float) -> None:
        self.zoom_label.setText(f"{percent:.0f} %")
        self._load_full_resolution_if_needed()

    def _load_full_resolution_if_needed(self) -> None:
        """Zoomed in beyond the display version's pixels: decode the whole photo in a worker, then swap it in."""
        document = self.document
        if document is None or document.rgb is None or document.full_size is None or document.full_resolution:
            return
        if self._full_worker is not None and self._full_worker_path == document.path:
            return
        shown = document.rgb.shape[1] / document.full_size[0]  # display pixels per photo pixel
        if self.view.zoom_percent() / 100.0 <= shown * 1.05:
            return
        worker = Worker(load_full_photo, document.path)
        worker.signals.returned.connect(self._full_resolution_loaded)
        worker.signals.errored.connect(self._full_resolution_failed)
        worker.signals.finished.connect(self._full_resolution_finished)
        self._full_worker_path = document.path
        self._full_worker = self.io_pool.start(worker, priority=5)
        self.statusBar().showMessage(f"Loading {document.path.name} at full resolution…", 3000)

    def _full_resolution_loaded(self, result: tuple[Path, Photo, QImage]) -> None:
        path, photo, image = result
        if self.document is not None and self.document.path == path and self.document.rgb is not None:
            self.document.set_image(photo.rgb, photo.full_size, full_resolution=True, image=image)

    def _full_resolution_failed(self, error: BaseException) -> None:
        show_error(self, error, "show the photo at full resolution")

    def _full_resolution_finished(self) -> None:
        self._full_worker = None
        self._full_worker_path = None

    def _photo_load_failed(self, path: Path, error: BaseException) -> None:
        if self.document is None or self.document.path != path:
            return  # a prefetch: the error is shown if and when the photo is opened
        if self.document is not None:
            self.photo_list.set_status(self.document.path, UNREADABLE)
            self.view.placeholder = f"{self.document.path.name} cannot be read."
            self.view.viewport().update()
        show_error(self, error, "open the photo")

    def _document_image_changed(self) -> None:
        document = self.document
        if document is None or document is not self.sender() or document.rgb is None or document.full_size is None:
            return
        first = self.scene.full_size is None
        image = document.image if document.image is not None else rgb_image(document.rgb)
        self.scene.set_photo(image, document.full_size)
        if first:  # the full-resolution version replaces the display one in place, at the same zoom
            self.view.fit()
        self.redraw_overlay()

    def _document_map_changed(self) -> None:
        if self.sender() is self.document:
            self.redraw_overlay()
            self._tool_document_changed()

    # ------------------------------------------------------------------------------------------------------------
    # Correcting
    # ------------------------------------------------------------------------------------------------------------

    def _restore_correction(self, document: PhotoDocument, full_size: tuple[int, int] | None) -> None:
        """A corrected photo shows its corrected mask: the sidecar's, with its journal replayed."""
        if document.mask is not None or full_size is None:
            return
        sidecar = self.service.sidecar(document.path)
        if not sidecar.is_corrected(document.path):
            return
        mask = sidecar.read_corrected_mask(document.path, full_size)
        if mask is not None:
            document.set_mask(mask)
            self.redraw_overlay()

    def set_tool(self, name: str) -> None:
        tool = self.tools.get(name)
        if self.view.tool is tool:
            return
        self.view.set_tool(tool)
        if self.compare_action.isChecked():
            self.tools["spline"].item.setVisible(False)  # the curves are the correction's: not shown before / after
        if not self.tool_actions[name].isChecked():
            self.tool_actions[name].setChecked(True)

    def _tool_document_changed(self) -> None:
        if self.view.tool is not None:
            self.view.tool.document_changed()

    def _document_mask_changed(self, _bbox: object) -> None:
        if self.sender() is self.document:
            self.redraw_overlay()

    def _document_mask_committed(self, _bbox: object) -> None:
        document = self.sender()
        if isinstance(document, PhotoDocument):
            self.photo_list.set_status(document.path, CORRECTED)
            if document is self.document and self.view.tool is self.tools["spline"]:
                self.tools["spline"].document_changed()

    def _document_splines_changed(self) -> None:
        if self.sender() is self.document and self.view.tool is self.tools["spline"]:
            self.tools["spline"].document_changed()

    def _splines_ready(self, document: PhotoDocument) -> None:
        if self.statusBar().currentMessage().startswith("Fitting curves"):
            self.statusBar().clearMessage()
        if document is self.document and self.view.tool is self.tools["spline"]:
            self.tools["spline"].document_changed()

    def _history_pushed(self, _dropped: int) -> None:
        """Keep every photo's undo history together within history_total_limit."""
        current = self.document.undo_stack if self.document is not None else None
        trim_all([d.undo_stack for d in self.documents.values()], current, self.history_total_limit)
        self.history_panel.refresh()

    def set_history_limit(self, megabytes: int) -> None:
        """Undo history per photo (Edit › Preferences): applies at once, to every open photo."""
        self.settings.history_limit_mb = megabytes
        limit = self.settings.history_limit_mb * MB
        for document in self.documents.values():
            document.set_history_limit(limit)
        self.history_panel.set_limit(limit)

    def _effort_changed(self, path: Path, effort: dict) -> None:
        self.photo_list.set_effort(path, effort)

    def remove_islands(self) -> None:
        self.editor.remove_islands(self.correct_panel.island_spin.value())

    def _delete_selected(self) -> None:
        if self.view.tool is self.tools["spline"]:
            self.tools["spline"].delete_selected()

    def _toggle_corner(self) -> None:
        if self.view.tool is self.tools["spline"]:
            self.tools["spline"].toggle_corner()

    def _update_title(self) -> None:
        if self.document is None:
            self.setWindowTitle("SkinSeg")
            return
        photos = self.photo_list.photos()
        index = photos.index(self.document.path) + 1 if self.document.path in photos else 0
        self.setWindowTitle(f"{self.document.path.name} ({index} of {len(photos)}) — SkinSeg")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # ------------------------------------------------------------------------------------------------------------
    # Segmentation
    # ------------------------------------------------------------------------------------------------------------

    def _segment_if_needed(self, path: Path) -> None:
        if not self.settings.auto_segment:
            return
        if self.service.model is None:
            self.statusBar().showMessage("No model is installed: photos can be viewed but not segmented.", 8000)
            return
        if self.photo_list.status(path) == UNREADABLE:
            return
        self.service.segment(path)

    def segment_current(self) -> None:
        if self.document is None:
            return
        try:
            self.service.segment(self.document.path)
        except SkinSegError as exc:
            show_error(self, exc, "segment the photo")

    def segment_all(self) -> None:
        photos = [p for p in self.photo_list.photos() if self.photo_list.status(p) != UNREADABLE]
        try:
            queued = self.service.segment_all(photos)
        except SkinSegError as exc:
            show_error(self, exc, "segment the photos")
            return
        if queued:
            self.statusBar().showMessage(f"Segmenting {queued} photos…")

    def cancel_jobs(self) -> None:
        if self.view.tool is not None:
            self.view.tool.cancel()  # Esc also drops a polygon or curve being drawn
        self.service.cancel_batch()
        if self._export_worker is not None:
            self._export_worker.cancel()

    def _map_ready(self, photo: Path, prob: ProbabilityMap) -> None:
        self.photo_list.set_status(photo, self.service.status(photo))
        if self.document is not None and self.document.path == photo:
            self.document.set_map(prob)

    def _segmentation_failed(self, photo: Path | None, error: BaseException, in_batch: bool) -> None:
        if photo is not None and isinstance(error, ImageReadError):
            self.photo_list.set_status(photo, UNREADABLE)
            return  # opening the photo already said so (or the batch summary will)
        if not in_batch or not isinstance(error, ImageReadError):
            show_error(self, error, "segment the photo")

    def _batch_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"Segmenting %v of {total}")
        self.progress_bar.setVisible(total > 0 and done < total)
        self.cancel_button.setVisible(total > 0 and done < total)

    def _batch_finished(self, done: int, total: int, cancelled: bool, failed: list) -> None:
        self.progress_bar.hide()
        self.cancel_button.hide()
        if cancelled:
            self.statusBar().showMessage(f"Segment All cancelled after {done} of {total} photos.", 8000)
        elif total:
            self.statusBar().showMessage(f"Segmented {done - len(failed)} of {total} photos.", 8000)
        else:
            self.statusBar().showMessage("Every photo is already segmented.", 5000)
        unreadable = [(p, e) for p, e in failed if isinstance(e, ImageReadError)]
        if unreadable:
            names = "\n".join(f"• {p.name}" for p, _ in unreadable[:10])
            more = f"\n… and {len(unreadable) - 10} more" if len(unreadable) > 10 else ""
            show_error(self, SkinSegError(
                f"{len(unreadable)} photos could not be read and were skipped:\n{names}{more}\n\n"
                "Click a photo marked “Cannot be read” to see why; copy it again from the original or convert it."
            ), "segment every photo")
        if cancelled and self.document is not None and self.service.cached(self.document.path) is None:
            self._segment_if_needed(self.document.path)

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage(f"Segmenting on {self.service.device_description}…")
        elif not self.service.batch_running:
            self.statusBar().clearMessage()
        self._update_actions()

    # ------------------------------------------------------------------------------------------------------------
    # Display
    # ------------------------------------------------------------------------------------------------------------

    def redraw_overlay(self) -> None:
        """Overlay from the cached display-resolution map: a colour table and contours, never the model."""
        document = self.document
        shown = None if document is None else (
            document.display_mask if document.display_mask is not None else document.display_map)
        corrected = document is not None and document.corrected
        self.panel.threshold_slider.setEnabled(not corrected)  # a corrected mask no longer depends on it
        self.panel.threshold_spin.setEnabled(not corrected)
        self._show_compare_hint()
        if document is None or shown is None:
            self.scene.set_overlay(None, None)
            self.panel.set_area(None)
            return
        threshold = 0.5 if corrected else document.threshold
        area = document.skin_area()
        prediction = self._prediction() if self.compare_action.isChecked() and corrected else None
        if prediction is not None:  # before / after: the model's own mask in place of the correction
            shown, threshold, area = prediction.display_map, prediction.threshold, prediction.skin_area()
        if self.renderer.display_map is not shown:
            self.renderer.set_map(shown)
        style = self.panel.overlay_style
        self.scene.set_overlay(self.renderer.fill(threshold, style), self.renderer.contour(threshold, style))
        self.panel.set_area(area)

    def _prediction(self) -> Prediction | None:
        """The open photo's prediction as the model made it: the map kept in the sidecar when the correction began
        (at the threshold of then), or the map in use when none was kept."""
        document = self.document
        if document is None:
            return None
        if document.prediction is None:
            sidecar = self.service.sidecar(document.path)
            record = sidecar.record(document.path)
            prob = sidecar.read_prediction(document.path) or document.prob
            if prob is None:
                return None
            document.set_prediction(prob, record.prediction_threshold or document.threshold)
        return document.prediction

    def _compare_toggled(self, on: bool) -> None:
        self.view.read_only = ("Showing the model's prediction: press M to go back to your correction and edit "
                               "it.") if on else ""
        spline = self.tools["spline"].item
        spline.setVisible(not on and self.view.tool is self.tools["spline"])
        for action in (self.fill_holes_action, self.remove_islands_action, self.delete_point_action,
                       self.corner_action):
            action.setEnabled(not on)  # they would change a correction that is not shown
        self.redraw_overlay()

    def _show_compare_hint(self) -> None:
        document = self.document
        if not self.compare_action.isChecked() or document is None:
            self.compare_label.hide()
            return
        if document.corrected:
            prediction = self._prediction()
            text = ("Before: the model's prediction" + (f" at {prediction.threshold:.2f}" if prediction else "")
                    + " — M shows your correction")
        else:
            text = "Not corrected yet: the overlay is the model's prediction — M to leave"
        self.compare_label.setText(text)
        self.compare_label.show()

    def _style_changed(self, style: OverlayStyle) -> None:
        self.settings.save_overlay_style(style)
        for action, value in ((self.overlay_action, style.visible), (self.uncertainty_action, style.uncertainty),
                              (self.contour_action, style.contour and not style.fill)):
            action.blockSignals(True)
            action.setChecked(value)
            action.blockSignals(False)
        self.redraw_overlay()

    def _overlay_toggled(self, on: bool) -> None:
        self.panel.visible_check.setChecked(on)

    def _uncertainty_toggled(self, on: bool) -> None:
        self.panel.uncertainty_check.setChecked(on)

    def _contour_toggled(self, on: bool) -> None:
        self.panel.mode_combo.setCurrentIndex(1 if on else 0)

    def _threshold_previewed(self, step: int) -> None:
        if self.document is None:
            return
        if self._drag_origin is None:
            self._drag_origin = self.document.threshold_step
        self.document.set_threshold_step(step)

    def _threshold_committed(self, step: int) -> None:
        document = self.document
        if document is None:
            return
        origin = self._drag_origin if self._drag_origin is not None else document.threshold_step
        self._drag_origin = None
        if origin != step:
            document.push(SetThresholdCommand(document, origin, step))
        else:
            document.set_threshold_step(step)

    def _document_threshold_changed(self, step: int) -> None:
        document = self.sender()
        if not isinstance(document, PhotoDocument):
            return
        if not self._applying_default:  # a default applied from the preferences is not the user's choice
            self.service.sidecar(document.path).set_threshold(document.path, step / THRESHOLD_STEPS)
            self.service.schedule_save()
        if document is self.document:
            self.panel.set_threshold_step(step)
            self.redraw_overlay()
            self._tool_document_changed()  # the spline tool shows the model's mask at this threshold

    # ------------------------------------------------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------------------------------------------------

    def _exportable(self, only_current: bool) -> list[tuple[Path, Callable[[], np.ndarray], float]]:
        """(photo, its mask function, threshold): the corrected mask where there is one (its threshold: the one the
        correction started from), else the model's at the photo's threshold."""
        photos = [self.document.path] if only_current and self.document else self.photo_list.photos()
        out = []
        for photo in photos:
            document = self.documents.get(photo)
            sidecar = self.service.sidecar(photo)
            if document is not None and document.mask is not None:
                mask = document.mask.copy()  # a snapshot: the worker must not see later edits half-done
                record = sidecar.record(photo)
                out.append((photo, lambda m=mask: m > 0, record.prediction_threshold or document.threshold))
                continue
            if sidecar.is_corrected(photo):
                record = sidecar.record(photo)
                prob = self.service.cached(photo) or sidecar.read_prediction(photo)
                if prob is not None:
                    out.append((photo, lambda p=photo, s=sidecar, size=prob.full_size:
                                s.read_corrected_mask(p, size) > 0, record.prediction_threshold or 0.5))
                    continue
            prob = self.service.cached(photo)
            if prob is None:
                continue
            step = document.threshold_step if document is not None else self._initial_step(photo)
            out.append((photo, lambda p=prob, t=step / THRESHOLD_STEPS: p.mask(t), step / THRESHOLD_STEPS))
        return out

    def export_masks_dialog(self) -> ExportDialog | None:
        count = len(self._exportable(False))
        if count == 0:
            show_error(self, SkinSegError("No photo is segmented yet, so there is no mask to export. Segment the "
                                          "photos first (Segmentation › Segment All)."), "export masks")
            return None
        current = bool(self._exportable(True))
        dialog = ExportDialog(count, current, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_masks(
            dialog.chosen_folder(), dialog.current_radio.isChecked(),
            {"png": dialog.png_check.isChecked(), "coco": dialog.coco_check.isChecked(),
             "labelme": dialog.labelme_check.isChecked()}))
        dialog.open()
        return dialog

    def export_masks(self, out_dir: Path | None = None, only_current: bool = False,
                     formats: dict[str, bool] | None = None) -> Worker | None:
        """Export in the background; out_dir None: a `masks` folder beside the photos."""
        items = self._exportable(only_current)
        if not items:
            return None
        model = self.service.model
        stamp = {"name": model.name, "sha256": model.stamp.sha256,
                 "skinseg_version": str(model.info.get("skinseg_version", ""))} if model else {}
        stamp["app_version"] = skinseg_core.__version__
        job = build_job(items, out_dir, formats or {"png": True, "coco": True, "labelme": True}, stamp)
        worker = Worker(run_export, job)
        worker.signals.progress.connect(self._export_progress)
        worker.signals.returned.connect(self._export_done)
        worker.signals.errored.connect(lambda error: show_error(self, error, "export the masks"))
        worker.signals.finished.connect(self._export_finished)
        self._export_worker = self.io_pool.start(worker)
        self.progress_bar.setRange(0, job.total)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"Exporting %v of {job.total}")
        self.progress_bar.show()
        self.cancel_button.show()
        return worker

    def _is_current_export(self) -> bool:
        """Whether the signal being handled comes from the latest export (an earlier one may still be finishing)."""
        return self._export_worker is not None and self.sender() is self._export_worker.signals

    def _export_progress(self, progress: object) -> None:
        if self._is_current_export():
            self.progress_bar.setValue(getattr(progress, "done", 0))

    def _export_done(self, folders: list[Path]) -> None:
        self.last_export_folders = list(folders)
        where = ", ".join(str(f) for f in folders)
        self.statusBar().showMessage(f"Masks exported to {where}", 10000)

    def _export_finished(self) -> None:
        if not self._is_current_export():
            return  # the export started after it keeps its progress bar, and Cancel still reaches it
        self._export_worker = None
        self.progress_bar.hide()
        self.cancel_button.hide()

    # ------------------------------------------------------------------------------------------------------------
    # Misc
    # ------------------------------------------------------------------------------------------------------------

    def show_about(self) -> AboutDialog:
        model = self.service.model
        text = f"{model.name} ({model.path.name})" if model else f"none installed — {self.service.model_error}"
        dialog = AboutDialog(text, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _update_actions(self) -> None:
        has_photos = self.photo_list.count() > 0
        for action in (self.segment_all_action, self.export_action, self.previous_action, self.next_action):
            action.setEnabled(has_photos)
        self.segment_action.setEnabled(self.document is not None)
        self.face_gate_action.setEnabled(self.service.has_face_gate)  # a model without the gate: nothing to turn off
        self.network_menu.setEnabled(self.service.has_people_network)  # one network: nothing to choose
        self.finetune_action.setEnabled(has_photos and not self.finetune.running and self.finetune_result is None)

    def shutdown(self) -> None:
        """Stop and wait for every worker; save what the sidecars know. Safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.autosaver.flush()
        self.finetune.shutdown()
        if self.finetune_result is not None:
            discard(self.finetune_result)
            self.finetune_result = None
        self.io_pool.shutdown()
        self.editor.shutdown()
        self.service.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.qsettings.sync()
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------------------------------------
    # Fine-tuning and model versions
    # ------------------------------------------------------------------------------------------------------------

    def _connect_finetune(self) -> None:
        panel = self.finetune_panel
        self.finetune.progress.connect(panel.show_event)
        self.finetune.succeeded.connect(self._finetune_succeeded)
        self.finetune.failed.connect(self._finetune_failed)
        self.finetune.cancelled.connect(self._finetune_cancelled)
        self.finetune.running_changed.connect(lambda _running: self._update_actions())
        panel.cancel_requested.connect(self.cancel_finetune)
        panel.adopt_requested.connect(self.adopt_finetuned)
        panel.discard_requested.connect(self.discard_finetuned)

    def corrected_photos(self) -> list[Path]:
        """The corrected photos of the folders in the photo list, folder by folder."""
        photos = self.photo_list.photos()
        return [p for p in photos if self.photo_list.status(p) == CORRECTED and self.service.status(p) == CORRECTED]

    def start_finetune(self) -> bool:
        """Fine-tune the model in use on the corrected photos in a separate process; False when it cannot start."""
        if self.finetune.running or self.finetune_result is not None:
            return False
        if self.service.model is None:
            show_error(self, SkinSegError(self.service.model_error or "No model is loaded."), "fine-tune")
            return False
        self.autosaver.flush()  # the child reads the corrections from the sidecar on disk
        self.service.save_sidecars()
        photos = self.corrected_photos()
        try:
            check_enough(len(photos))
            self.finetune.start(JobSpec([str(p) for p in photos], str(self.service.model.path),
                                        self.finetune_settings.to_dict(), device=self.service.device))
        except SkinSegError as exc:
            show_error(self, exc, "fine-tune")
            return False
        except OSError as exc:
            show_error(self, SkinSegError(f"Could not start fine-tuning: {exc}."), "fine-tune")
            return False
        self.finetune_panel.start(len(photos), self.finetune_settings.epochs)
        self.finetune_dock.show()
        self.finetune_dock.raise_()
        self.statusBar().showMessage(f"Fine-tuning on {len(photos)} corrected photos in the background…", 8000)
        self._update_actions()
        return True

    def cancel_finetune(self) -> None:
        self.finetune_panel.cancelling()
        self.finetune.cancel()

    def _finetune_succeeded(self, result: FinetuneResult) -> None:
        self.finetune_result = result
        self.finetune_panel.show_comparison(result.comparison, result.result_dir, self.model_title())
        self.finetune_dock.show()
        self.statusBar().showMessage("Fine-tuning finished: compare the models and adopt or discard the new one.",
                                     10000)
        self._update_actions()

    def _finetune_failed(self, message: str) -> None:
        self.finetune_dock.hide()
        show_error(self, SkinSegError(message), "fine-tune the model")
        self._update_actions()

    def _finetune_cancelled(self) -> None:
        self.finetune_dock.hide()
        self.statusBar().showMessage("Fine-tuning cancelled; the model in use is unchanged.", 8000)
        self._update_actions()

    def adopt_finetuned(self) -> None:
        """Store the new model as a version, make it the one in use and re-segment the photos not corrected."""
        result = self.finetune_result
        if result is None:
            return
        comparison = result.comparison
        card = {"parent": comparison["parent"]["name"], "parent_sha256": comparison["parent"].get("sha256"),
                "photos": comparison["train_photos"] + comparison["held_out"], "held_out": comparison["held_out"],
                "metrics": comparison["summary"], "best_epoch": comparison["best_epoch"],
                "epochs_run": comparison["epochs_run"], "settings": comparison["settings"],
                "changed_weight": comparison.get("changed_weight", 1.0)}
        try:
            version = versions.add_version(result.model_path, card)
            versions.activate(version.id)
        except SkinSegError as exc:
            show_error(self, exc, "adopt the new model")
            return
        self.finetune_result = None
        discard(result)
        self.finetune_dock.hide()
        self.use_model(version.path)
        self.statusBar().showMessage(f"Now using {version.id}; re-segmenting the photos that are not corrected.",
                                     10000)

    def discard_finetuned(self) -> None:
        if self.finetune_result is not None:
            discard(self.finetune_result)
            self.finetune_result = None
        self.finetune_dock.hide()
        self.statusBar().showMessage("The new model was discarded; the model in use is unchanged.", 8000)
        self._update_actions()

    def use_model(self, model_path: Path) -> None:
        """Switch to this model file and re-segment the open photos that are not corrected."""
        self.service.cancel_batch()
        self.service.set_model(model_path)
        self._update_model_label()
        self._resegment_uncorrected()

    def _resegment_uncorrected(self) -> None:
        """After the way maps are made changed: new statuses, and the photos not corrected segmented again."""
        photos = self.photo_list.photos()
        for photo in photos:
            if self.photo_list.status(photo) != UNREADABLE:
                self.photo_list.set_status(photo, self.service.status(photo))
        todo = [p for p in photos if self.photo_list.status(p) not in (CORRECTED, UNREADABLE)]
        if todo and self.service.model is not None:
            self.segment_all_photos(todo)
        self._update_actions()

    def segment_all_photos(self, photos: Sequence[Path]) -> None:
        try:
            self.service.segment_all(photos)
        except SkinSegError as exc:
            show_error(self, exc, "segment the photos")

    def show_versions(self) -> ModelVersionsDialog:
        model = self.service.model
        active = None
        if model is not None:
            path = model.path.resolve()
            if path == paths.bundled_model_path().resolve():
                active = versions.BUNDLED
            elif path.parent.parent == paths.versions_dir().resolve():
                active = path.parent.name
        dialog = ModelVersionsDialog(active, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.version_chosen.connect(self.activate_version)
        dialog.open()
        return dialog

    def activate_version(self, version_id: str) -> bool:
        try:
            version = versions.activate(version_id)
        except SkinSegError as exc:
            show_error(self, exc, "use this model version")
            return False
        self.use_model(version.path)
        self.statusBar().showMessage(f"Now using {self.model_title()}.", 8000)
        return True

    def restore_bundled(self) -> bool:
        return self.activate_version(versions.BUNDLED)

    def message_boxes(self) -> list[QMessageBox]:
        """Open message boxes (for tests and for a final check on quit)."""
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]

