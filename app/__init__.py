"""SkinSeg's desktop app: a thin Qt shell around skinseg_core (no segmentation logic lives here)."""
