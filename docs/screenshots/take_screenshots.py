"""Take the README's screenshots of the app on generated photos (never clinical ones), offscreen.

    .venv/bin/python docs/screenshots/take_screenshots.py [--model MODEL.json] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def generated_photos(folder: Path, count: int = 6, size: tuple[int, int] = (1600, 1200)) -> None:
    """Skin-toned forearm-like shapes with a darker patch, on a cloth-like background."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    width, height = size
    tones = [(226, 180, 150), (198, 146, 112), (150, 102, 74), (236, 196, 170), (120, 80, 60), (210, 160, 128)]
    for i in range(count):
        background = np.empty((height, width, 3), np.float32)
        background[:] = rng.choice([(70, 96, 120), (40, 110, 100), (200, 200, 205)])
        background += rng.normal(0, 3, (height, width, 1))
        mask = np.zeros((height, width), np.uint8)
        cx, cy = width * rng.uniform(0.4, 0.6), height * rng.uniform(0.4, 0.6)
        angle = rng.uniform(-30, 30)
        cv2.ellipse(mask, (int(cx), int(cy)), (int(width * 0.42), int(height * 0.2)), angle, 0, 360, 255, -1)
        cv2.circle(mask, (int(cx + width * 0.3), int(cy - height * 0.1)), int(height * 0.16), 255, -1)
        soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 6)[..., None]
        skin = np.empty_like(background)
        skin[:] = tones[i % len(tones)]
        yy, xx = np.mgrid[0:height, 0:width]
        skin *= (1.0 - 0.18 * ((yy - cy) / height) ** 2 * 4)[..., None]
        lesion = ((xx - cx + width * 0.1) / (width * 0.05)) ** 2 + ((yy - cy) / (height * 0.06)) ** 2 <= 1
        skin[lesion] *= np.array([0.75, 0.55, 0.55], np.float32)
        skin += rng.normal(0, 3, (height, width, 1))
        photo = np.clip(background * (1 - soft) + skin * soft, 0, 255).astype(np.uint8)
        Image.fromarray(photo).save(folder / f"patient-{i + 1:02d}.jpg", quality=90)


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    from app.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Clinic photos"
        generated_photos(folder)
        window = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat),
                            model_path=args.model, display_long_side=1600)
        window.resize(1280, 800)
        window.show()
        window.open_paths([folder])
        window.segment_all()
        while window.service.batch_running or window.document.display_map is None or window.document.rgb is None:
            settle(100)
        window.photo_list.step(1)
        while window.document.display_map is None or window.document.rgb is None:
            settle(100)
        settle()
        args.out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out / "main-window.png"))
        window.panel.mode_combo.setCurrentIndex(1)
        settle()
        window.grab().save(str(args.out / "contour.png"))
        window.panel.mode_combo.setCurrentIndex(0)
        window.panel.uncertainty_check.setChecked(True)
        settle()
        window.grab().save(str(args.out / "uncertainty.png"))
        window.panel.uncertainty_check.setChecked(False)
        window.set_theme("dark")
        window.panel.mode_combo.setCurrentIndex(2)
        settle()
        window.grab().save(str(args.out / "dark.png"))
        window.close()
    app.quit()


if __name__ == "__main__":
    main()
