"""Fit the colour balance ranges of the training photos of people, which the face colour gate's colour balance step
uses (skinseg_core/colour_balance.py, docs/adr/0027, 0031), and print them as the gate's settings.

The estimates of every training photo of LFW, SFA, ECU and FASSEG (the sets of people; never a validation or test
photo), each set weighing the same: the light's colour over the whole photo (`balance_*`) and its change from the
left edge to the right (`slope_*`).

    python scripts/fit_colour_balance.py [--data-root ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skinseg_core.colour_balance import balance_estimate, balance_slope, fit_balance  # noqa: E402
from skinseg_core.imageio import read_photo  # noqa: E402
from skinseg_core.recipes import dataset_splits  # noqa: E402

PEOPLE_SETS = ("lfw_parts", "sfa", "ecu_subset", "fasseg")


def people_balance(data_root: Path) -> dict[str, list]:
    splits = dataset_splits(data_root)
    estimates: dict[str, list] = {"balance": [], "slope": []}
    for name in PEOPLE_SETS:
        photos = [read_photo(pair.image).rgb for pair in splits[name].train]
        for kind, estimate in (("balance", balance_estimate), ("slope", balance_slope)):
            found = (estimate(rgb) for rgb in photos)
            estimates[kind].append([e for e in found if e is not None])
    fitted = {}
    for kind, per_set in estimates.items():
        centre, inverse_covariance = fit_balance(per_set)
        fitted[f"{kind}_centre"] = [round(v, 4) for v in centre]
        fitted[f"{kind}_inverse_covariance"] = [[round(v, 2) for v in row] for row in inverse_covariance]
    return fitted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    print(json.dumps(people_balance(parser.parse_args().data_root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
