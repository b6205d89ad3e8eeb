"""A Gaussian colour model of some pixels of a photo, and every pixel's Mahalanobis distance from it.

The face colour gate (face_colour.py) describes a photo's skin by the a*b* of the skin inside its faces, and the hair
step (face_hair.py) describes the face and the hair above it in L*a*b*, each by the mean and covariance of the
sampled pixels; a covariance regularised on its diagonal keeps an evenly lit face from being a single colour.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["gaussian_distance", "lab"]


def lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB [h, w, 3] -> float32 CIE L*a*b* (OpenCV's 8-bit scaling: L 0-255, a* and b* centred on 128)."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32)


def gaussian_distance(features: np.ndarray, samples: np.ndarray, regularisation: float) -> np.ndarray:
    """float32 [h, w]: the Mahalanobis distance of every pixel's `features` [h, w, k] from the Gaussian of those
    where bool `samples` [h, w] is True (covariance + `regularisation` on the diagonal)."""
    picked = features[samples].astype(np.float64)
    cov = np.cov(picked.T) + np.eye(features.shape[-1]) * regularisation
    inverse = np.linalg.inv(cov).astype(np.float32)
    diff = features - picked.mean(axis=0).astype(np.float32)
    squared = np.einsum("...i,ij,...j->...", diff, inverse, diff)
    return np.sqrt(np.maximum(squared, 0.0, out=squared))
