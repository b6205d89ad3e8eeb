"""Export from the window, read the files back: PNG without metadata, COCO RLE and labelme polygons."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from PySide6.QtCore import QObject

from app.workers import Worker
from skinseg_core.export import rle_decode
from skinseg_core.sidecar import SEGMENTED
from tests.app.conftest import message_boxes

WAIT_MS = 30_000


def segment_everything(qtbot, window, folder: Path) -> None:
    window.open_paths([folder])
    with qtbot.waitSignal(window.service.batch_finished, timeout=60_000):
        window.segment_all()
    qtbot.waitUntil(lambda: window.document.display_map is not None and window.document.rgb is not None,
                    timeout=WAIT_MS)


def expected_mask(window, photo: Path, threshold: float) -> np.ndarray:
    return window.service.cached(photo).full() >= np.float32(threshold)


def check_exported(window, out: Path, photos: list[Path], thresholds: dict[Path, float]) -> None:
    coco = json.loads((out / "coco.json").read_text(encoding="utf-8"))
    assert coco["info"]["skinseg"]["model"]["name"] == window.service.model.name
    annotations = {image["file_name"]: ann for image, ann in zip(coco["images"], coco["annotations"], strict=True)}
    for photo in photos:
        mask = expected_mask(window, photo, thresholds[photo])
        png = Image.open(out / f"{photo.stem}.png")
        assert png.mode == "L" and png.size == (mask.shape[1], mask.shape[0])
        assert not png.getexif() and set(png.info) <= {"dpi"}  # no EXIF, text chunks or ICC profile
        np.testing.assert_array_equal(np.asarray(png) == 255, mask)
        annotation = annotations[photo.name]
        assert annotation["skinseg_threshold"] == thresholds[photo]
        np.testing.assert_array_equal(rle_decode(annotation["segmentation"]), mask)
        labelme = json.loads((out / f"{photo.stem}.json").read_text(encoding="utf-8"))
        assert labelme["skinseg"]["threshold"] == thresholds[photo]
        assert labelme["skinseg"]["model"]["name"] == window.service.model.name
        assert (out / labelme["imagePath"]).resolve() == photo.resolve()
        raster = np.zeros(mask.shape, np.uint8)
        for shape in labelme["shapes"]:
            cv2.fillPoly(raster, [np.round(np.array(shape["points"])).astype(np.int32)],
                         1 if shape["label"] == "skin" else 0)
        union = np.count_nonzero(raster.astype(bool) | mask)
        if union:
            assert np.count_nonzero(raster.astype(bool) & mask) / union > 0.9


def test_export_to_a_chosen_folder(qtbot, window, photo_folder: Path, tmp_path: Path) -> None:
    segment_everything(qtbot, window, photo_folder)
    window.panel.threshold_spin.setValue(0.45)  # the open photo only
    out = tmp_path / "exported"
    worker = window.export_masks(out)
    with qtbot.waitSignal(worker.signals.finished, timeout=WAIT_MS):
        pass
    assert not message_boxes()
    photos = window.photo_list.photos()
    thresholds = {p: 0.45 if p == window.document.path else window.service.model.threshold for p in photos}
    check_exported(window, out, photos, thresholds)
    assert window.last_export_folders == [out]


class FinishOrder(QObject):
    """Records, when the earlier export finishes, whether the later one had finished and whether Cancel was shown.

    A QObject's method, so the worker threads' signals are queued to the GUI thread, after the window's own slots."""

    def __init__(self, window, earlier, later) -> None:
        super().__init__()
        self.window = window
        self.later_finished = False
        self.seen: tuple[bool, bool] | None = None
        earlier.signals.finished.connect(self.earlier_done)
        later.signals.finished.connect(self.later_done)

    def earlier_done(self) -> None:
        self.seen = (self.later_finished, self.window.cancel_button.isVisible())

    def later_done(self) -> None:
        self.later_finished = True


def test_an_earlier_export_finishing_leaves_the_later_one_in_charge(qtbot, window, photo_folder: Path,
                                                                    tmp_path: Path) -> None:
    segment_everything(qtbot, window, photo_folder)
    # Both io threads wait at a gate, so neither export can finish before `order` listens; then one thread runs the
    # two exports in turn while the other stays shut: the earlier one finishes while the later one is still to come.
    first_gate, second_gate = threading.Event(), threading.Event()
    try:
        for gate in (first_gate, second_gate):
            window.io_pool.start(Worker(gate.wait, WAIT_MS / 1000))
        earlier = window.export_masks(tmp_path / "first")
        later = window.export_masks(tmp_path / "second")
        order = FinishOrder(window, earlier, later)
        first_gate.set()
        with qtbot.waitSignals([earlier.signals.finished, later.signals.finished], timeout=WAIT_MS):
            pass
    finally:
        first_gate.set()
        second_gate.set()
    assert order.seen == (False, True)  # the later export keeps the progress bar and Cancel until it is done
    assert not window.cancel_button.isVisible() and not window.progress_bar.isVisible()
    assert window.last_export_folders == [tmp_path / "second"]


def test_export_dialog_beside_the_photos(qtbot, window, photo_folder: Path) -> None:
    segment_everything(qtbot, window, photo_folder)
    originals = {p: p.read_bytes() for p in window.photo_list.photos()}
    dialog = window.export_masks_dialog()
    assert dialog.beside_radio.isChecked()
    dialog.current_radio.setChecked(True)
    dialog.labelme_check.setChecked(False)
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=WAIT_MS,
                          check_params_cb=lambda message: message.startswith("Masks exported")):
        dialog.export_button.click()
    masks = photo_folder / "masks"
    assert sorted(p.name for p in masks.iterdir()) == ["coco.json", f"{window.document.path.stem}.png"]
    assert all(p.read_bytes() == data for p, data in originals.items())


def test_export_with_nothing_segmented_explains(qtbot, window, photo_folder: Path) -> None:
    window.settings.auto_segment = False
    window.open_paths([photo_folder])
    assert window.export_masks_dialog() is None
    assert "No photo is segmented" in message_boxes()[0].text()


def test_real_clinical_photos_end_to_end(qtbot, window, clinical_folder: Path, tmp_path: Path) -> None:
    """Real photos (JPEG and PNG, various sizes): open, segment all, threshold, switch, export, read back."""
    segment_everything(qtbot, window, clinical_folder)
    photos = window.photo_list.photos()
    assert all(window.photo_list.status(p) == SEGMENTED for p in photos)
    window.panel.threshold_spin.setValue(0.0)
    area = window.panel.area_label.text()
    window.panel.threshold_spin.setValue(0.6)
    assert window.panel.area_label.text() != area
    window.next_action.trigger()
    qtbot.waitUntil(lambda: window.document.display_map is not None and window.document.rgb is not None,
                    timeout=WAIT_MS)
    assert window.document.path == photos[1]
    out = tmp_path / "clinical-masks"
    worker = window.export_masks(out)
    with qtbot.waitSignal(worker.signals.finished, timeout=WAIT_MS):
        pass
    thresholds = {p: 0.6 if p == photos[0] else window.service.model.threshold for p in photos}
    check_exported(window, out, photos, thresholds)
