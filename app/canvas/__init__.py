"""The photo canvas: a scene in full-resolution photo pixels, a zooming and panning view, overlay images."""

from app.canvas.scene import PhotoScene
from app.canvas.view import PhotoView

__all__ = ["PhotoScene", "PhotoView"]
