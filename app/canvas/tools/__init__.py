"""Mouse tools on the canvas. Each turns presses, drags and releases (in scene coordinates: full-resolution photo
pixels) into live drawing on the document's mask and, when the user lets go, one command via `MaskEditor.commit`."""

from app.canvas.tools.base import Tool
from app.canvas.tools.brush import BrushTool
from app.canvas.tools.polygon import PolygonTool
from app.canvas.tools.spline import SplineTool

__all__ = ["BrushTool", "PolygonTool", "SplineTool", "Tool"]
