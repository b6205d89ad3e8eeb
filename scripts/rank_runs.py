"""Rank training runs by their validation scores (`skinseg report --split val --json` of each), best first.

A run's score is the mean over the validation sets (LFW, SFA, abdomen, ECU and the tiled LFW group pictures) of the
mean of skin and background Jaccard: every kind of photo counts alike, and rejecting background counts as much as
finding skin (docs/adr/0015). The crowd pictures (lfw_crowds, one on the validation split) are left out, so that
scores stay comparable with those of earlier runs. The test splits are never looked at.

    python scripts/rank_runs.py runs/seeds/s*/val/report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


RANKED_SETS = ("lfw_parts", "sfa", "abdomen", "ecu_subset", "lfw_groups")


def run_score(report: dict) -> tuple[float, dict[str, tuple[float, float]]]:
    per_set = {}
    for name, entry in report["sets"].items():
        if name not in RANKED_SETS:
            continue
        summary = entry["methods"]["model"]["summary"]
        per_set[name] = (summary["jaccard"]["mean"], summary["background_jaccard"]["mean"])
    score = sum((skin + background) / 2 for skin, background in per_set.values()) / len(per_set)
    return score, per_set


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--best", action="store_true", help="print only the best report's path")
    args = parser.parse_args()
    ranked = sorted(((*run_score(json.loads(path.read_text())), path) for path in args.reports),
                    key=lambda row: -row[0])
    if args.best:
        print(ranked[0][2])
        return 0
    names = list(ranked[0][1])
    print("| run | score | " + " | ".join(f"{n} skin / bg J" for n in names) + " |")
    print("|---|---:|" + "---|" * len(names))
    for score, per_set, path in ranked:
        cells = " | ".join(f"{per_set[n][0]:.3f} / {per_set[n][1]:.3f}" for n in names)
        print(f"| {path} | {score:.4f} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
