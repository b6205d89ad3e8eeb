"""App test fixtures: offscreen Qt, a settings file and user folders per test, a tiny model, generated photos.

A test that leaves a worker thread running fails (checked after the window is closed).
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from skinseg_core.checkpoint import CheckpointMeta, save_checkpoint
from skinseg_core.imageio import list_photos
from skinseg_core.models import build_model

SKIN = (224, 172, 140)


@pytest.fixture(autouse=True)
def user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKINSEG_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("SKINSEG_LOG_DIR", str(tmp_path / "user-logs"))
    monkeypatch.delenv("SKINSEG_MODEL", raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


# Untrained weights, so the seed decides what the model "sees". torch seeds its generator randomly per process, so
# without a fixed seed every run segmented differently, and now and then the masks were a speckle of 1-2 pixel islands
# that no labelme polygon can hold (the export tests' IoU check then failed at random). With seed 1 the generated and
# the clinical photos get masks of 5-70 % of the photo at thresholds 0.45 and 0.5, the same in every run.
TINY_MODEL_SEED = 1


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    with torch.random.fork_rng(devices=[]):  # the seed stays here: later tests' random numbers do not change
        torch.manual_seed(TINY_MODEL_SEED)
        model = build_model("dense-res-unet", widths=(4, 8, 12), fc_dim=8, fc_grid=2, input_size=32, dense_layers=2,
                            residual_width=4)
    return save_checkpoint(model, tmp_path / "models" / "tiny.json", CheckpointMeta(name="tiny"))


def write_generated_photos(folder: Path, count: int = 4, size: tuple[int, int] = (320, 240), seed: int = 0) -> list[Path]:
    """Photos of a skin-coloured ellipse on a textured blue-grey background, alternating JPEG and PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    paths = []
    for i in range(count):
        cx, cy = rng.uniform(0.35, 0.65) * width, rng.uniform(0.35, 0.65) * height
        rx, ry = rng.uniform(0.2, 0.35) * width, rng.uniform(0.2, 0.35) * height
        inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
        photo = rng.integers(30, 90, (height, width, 3)).astype(np.uint8)
        photo[..., 2] = np.clip(photo[..., 2].astype(int) + 90, 0, 255)
        shade = (1.0 - 0.25 * ((xx - cx) ** 2 + (yy - cy) ** 2) / (rx * ry))[..., None]
        photo[inside] = np.clip(np.array(SKIN) * shade, 0, 255).astype(np.uint8)[inside]
        path = folder / f"photo{i:02d}{'.jpg' if i % 2 == 0 else '.png'}"
        Image.fromarray(photo).save(path, quality=92)
        paths.append(path)
    return paths


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    write_generated_photos(folder)
    return folder


@pytest.fixture
def clinical_folder(shared_data: Path, tmp_path: Path) -> Path:
    """Four real clinical photos copied into tmp_path (the shared originals are never opened for writing)."""
    source = shared_data / "clinical_fitz17k" / "images"
    if not source.is_dir():
        pytest.skip(f"{source} is absent")
    folder = tmp_path / "clinical"
    folder.mkdir()
    # The photos only: a folder the app has opened also holds its hidden .skinseg work folder.
    for photo in list_photos(source)[:4]:
        shutil.copy(photo, folder / photo.name)
    return folder


@pytest.fixture
def make_window(qtbot, settings: QSettings, tiny_model: Path) -> Iterator[Callable[..., object]]:
    from app.main_window import MainWindow
    from app.workers import all_pools

    windows = []

    def make(model_path: Path | None = tiny_model, **kwargs: object) -> MainWindow:
        window = MainWindow(settings=settings, model_path=model_path, display_long_side=kwargs.pop("long_side", 640),
                            **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QMessageBox):
            box.close()
    leftover = [pool.name for pool in all_pools() if pool.busy]
    assert not leftover, f"worker threads still running after the test: {leftover}"


@pytest.fixture
def window(make_window):
    return make_window()


def message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
