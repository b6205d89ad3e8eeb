"""Render SkinSeg's app icon (resources/icons/skinseg.svg) to the PNG, ICO and ICNS files the app and installers use.

    python build/make_icon.py          rewrites resources/icons/skinseg-<N>.png (N = 16 .. 512), skinseg.ico, skinseg.icns

The SVG is the source; the rendered files are committed so that neither the app nor a build needs to render SVG
(the Linux packages install the PNGs as hicolor icons, Windows uses the .ico, macOS the .icns).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SOURCE = ICONS / "skinseg.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    """The SVG at size x size pixels as an RGBA Pillow image (antialiased, transparent outside the tile)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage painting needs one
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        sys.stderr.write(f"Cannot read {SOURCE} as SVG.\n")
        return 1
    images = {size: render(renderer, size) for size in PNG_SIZES}
    for size, image in images.items():
        image.save(ICONS / f"skinseg-{size}.png", optimize=True)
    # Every size in the ICO and ICNS files is rendered from the SVG (append_images), not scaled from the largest.
    images[256].save(ICONS / "skinseg.ico", sizes=[(s, s) for s in ICO_SIZES],
                     append_images=[images[s] for s in ICO_SIZES if s != 256])
    retina = render(renderer, 1024)  # macOS asks for 512 px at 2x
    retina.save(ICONS / "skinseg.icns", append_images=[images[s] for s in ICNS_SIZES])
    print(f"wrote {len(images)} PNGs, skinseg.ico and skinseg.icns into {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
