"""Mixed light for training: a share of items lit by a warm lamp on one side fading to cool daylight on the other.

Why: the strong augmentation's colour steps (transforms.py) change the whole photo at once: one colour temperature,
one gain per channel. A room lit by a lamp on one side and a window on the other is lit by two, and no single gain
undoes that: the network's per-image standardisation, the colour balance step (colour_balance.py) and the face colour
gate all assume one light. On ECU's test photos under such light (lighting.py's "mixed") the model of ADR 0029
scored 0.557 skin Jaccard against 0.757 in daylight. In stage 4 it gained nothing beyond the seeds' spread, so the
bundled recipe does not use it (docs/adr/0030).

Each item drawn gets a light field: the colours of two black bodies, a lamp (LAMP_KELVIN) and daylight or shade
(DAYLIGHT_KELVIN), or now and then a green fluorescent tube in the lamp's place, as gains on linear RGB relative to D65
(BLACK_BODY: the table albumentations' PlanckianJitter uses, which transforms.py applies to whole photos), softened by
a drawn strength. They fade into each other along a drawn direction over a drawn width, or from a drawn point
outwards (a lamp in the frame's corner). The mask is unchanged: light does not change what is skin. The evaluation's
lights (lighting.py) are fixed and fade left to right; these are drawn from a wider family, so the check is not the
training light.
"""

from __future__ import annotations

import cv2
import numpy as np

from skinseg_core.data import RecolouredDataset
from skinseg_core.skin_tone import SRGB_GAMMA

__all__ = ["MixedLightDataset", "light_field", "relight_linear", "white_gains"]

LAMP_KELVIN = (3500, 5000)
DAYLIGHT_KELVIN = (6500, 12000)
STRENGTH = (0.5, 1.0)  # the gains' exponent: 1 the black body's full colour, 0 white
GREEN_TUBE = np.array([0.88, 1.0, 0.85], np.float32)  # linear gains of an old fluorescent tube
GREEN_SHARE = 0.2  # share of fields whose first light is that tube instead of a lamp
RADIAL_SHARE = 0.3  # share of fields that fade outwards from a point instead of across the frame
FADE_WIDTH = (0.3, 1.5)  # of the frame's extent along the fade
# RGB chromaticity of black bodies, Kelvin: (r, g, b); copied from albumentations 2.0 (`PLANCKIAN_COEFFS["blackbody"]`,
# Zini et al. 2022), whose module path is not public, so that a new albumentations cannot move it away from training.
BLACK_BODY: dict[int, tuple[float, float, float]] = {
    3_500: (0.6281, 0.4241, 0.1665),
    4_000: (0.5919, 0.4372, 0.2513),
    4_500: (0.5623, 0.4457, 0.3154),
    5_000: (0.5376, 0.4515, 0.3672),
    5_500: (0.5163, 0.4555, 0.4103),
    6_000: (0.4979, 0.4584, 0.4468),
    6_500: (0.4816, 0.4604, 0.4782),
    7_000: (0.4672, 0.4619, 0.5053),
    7_500: (0.4542, 0.4630, 0.5289),
    8_000: (0.4426, 0.4638, 0.5497),
    8_500: (0.4320, 0.4644, 0.5681),
    9_000: (0.4223, 0.4648, 0.5844),
    9_500: (0.4135, 0.4651, 0.5990),
    10_000: (0.4054, 0.4653, 0.6121),
    10_500: (0.3980, 0.4654, 0.6239),
    11_000: (0.3911, 0.4655, 0.6346),
    11_500: (0.3847, 0.4656, 0.6444),
    12_000: (0.3787, 0.4656, 0.6532),
}
_KELVINS = np.array(sorted(BLACK_BODY), np.float32)
_COLOURS = np.array([BLACK_BODY[int(k)] for k in _KELVINS], np.float32)


def white_gains(kelvin: float) -> np.ndarray:
    """float32 [3] linear RGB gains of a black body at `kelvin` against D65 (6500 K), the largest 1."""
    colour = np.array([np.interp(kelvin, _KELVINS, _COLOURS[:, c]) for c in range(3)], np.float32)
    gains = colour / np.array(BLACK_BODY[6500], np.float32)
    return gains / gains.max()


def light_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float32 [3, H, W] linear RGB gains in (0, 1]: two drawn lights fading into each other across the frame."""
    height, width = shape
    strength = rng.uniform(*STRENGTH)
    first = GREEN_TUBE if rng.random() < GREEN_SHARE else white_gains(rng.uniform(*LAMP_KELVIN))
    second = white_gains(rng.uniform(*DAYLIGHT_KELVIN))
    first, second = first ** strength, second ** strength
    if rng.random() < 0.5:
        first, second = second, first
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ys, xs = ys / max(height - 1, 1), xs / max(width - 1, 1)
    if rng.random() < RADIAL_SHARE:
        cy, cx = rng.uniform(0.0, 1.0, size=2)
        along = np.hypot(ys - cy, xs - cx)
        along /= max(float(along.max()), 1e-6)
    else:
        angle = rng.uniform(0.0, 2.0 * np.pi)
        along = xs * np.cos(angle) + ys * np.sin(angle)
        along = (along - along.min()) / max(float(along.max() - along.min()), 1e-6)
    centre, fade = rng.uniform(0.3, 0.7), rng.uniform(*FADE_WIDTH)
    t = np.clip((along - centre) / fade + 0.5, 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)  # smoothstep: no kink where the fade starts and ends
    return (first[:, None, None] * (1.0 - t) + second[:, None, None] * t).astype(np.float32)


def relight_linear(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """float32 [3,H,W] sRGB in [0,1] lit by `field` (linear gains [3,H,W] or [3,1,1]), back in sRGB."""
    linear = np.clip(image, 0.0, 1.0) ** SRGB_GAMMA
    return np.clip(linear * field, 0.0, 1.0) ** (1.0 / SRGB_GAMMA)


class MixedLightDataset(RecolouredDataset):
    """Wraps a training dataset whose items are `(image, mask, ...)` tensors: a share of them are re-lit by a drawn
    `light_field`; masks and any further tensors pass through unchanged."""

    RESEED_OFFSET = WORKER_OFFSET = 49_979_687
    SHARE_NAME = "mixed light"

    def _recolour(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        field = light_field(image.shape[1:], self.rng)
        return relight_linear(image, field).astype(np.float32)


if __name__ == "__main__":  # pragma: no cover - a look at the fields: python -m skinseg_core.mixed_light OUT.png
    import sys

    demo = np.full((3, 120, 160), 0.7, np.float32)
    rows = [np.concatenate([relight_linear(demo, light_field((120, 160), np.random.default_rng(seed + 8 * row)))
                            for seed in range(8)], axis=2) for row in range(4)]
    tile = (np.concatenate(rows, axis=1).transpose(1, 2, 0) * 255).astype(np.uint8)
    cv2.imwrite(sys.argv[1], cv2.cvtColor(tile, cv2.COLOR_RGB2BGR))
