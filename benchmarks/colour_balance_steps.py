"""What the colour balance steps before the network cost (colour_balance.py, docs/adr/0027, 0031): medians of repeated
timings of each on a photo as the face colour gate gets it (read at 800 px on the long side), printed as ms. Only
photos where the first face search finds a face pay them; figures only, nothing asserted.

    python benchmarks/colour_balance_steps.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skinseg_core.benchmark import median_ms  # noqa: E402
from skinseg_core.colour_balance import balance_estimate, balance_slope, level_slope  # noqa: E402
from skinseg_core.face_colour import FaceColourGate  # noqa: E402
from skinseg_core.lighting import relight  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # A many-coloured 4:3 scene at the gate's read size, under a lamp on the left and daylight on the right.
    photo = relight(rng.integers(20, 230, (600, 800, 3), dtype=np.uint8), "mixed")
    slope = balance_slope(photo)
    gate = FaceColourGate()
    face = [(350, 100, 120, 120)]
    timings = {
        "whole-photo estimate": median_ms(lambda: balance_estimate(photo), args.repeats),
        "left-right slope estimate": median_ms(lambda: balance_slope(photo), args.repeats),
        "levelling the slope": median_ms(lambda: level_slope(photo, slope), args.repeats),
        "both steps, as the gate runs them (this photo is levelled)": median_ms(lambda: gate.balanced(photo, face),
                                                                                  args.repeats),
    }
    print(json.dumps({name: round(ms, 2) for name, ms in timings.items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
