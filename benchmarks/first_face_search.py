"""The face colour gate's first face search with its window's size stepped up by the shipped 1.1 and by a coarser
step (faces.py, docs/adr/0033): on each set's photos, read at the gate's size, both are timed in turns on the same
photo and the photos where each finds a face are counted. Printed as JSON: ms per photo (the mean), the ratio of the
two timed in the same run, and the counts. On the photos where the shipped step finds no face, the search for large
faces seen from the side that then runs (docs/adr/0035) is timed too, with the photos where it finds one. Figures
only, nothing asserted.

    python benchmarks/first_face_search.py [--data-root ../shared/data] [--sets lfw_parts,sfa,abdomen,ecu_subset]
                                           [--split val] [--step 1.2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skinseg_core.face_colour import FaceColourGate  # noqa: E402
from skinseg_core.faces import FIRST_PASS_MIN_FACE_PX, SCALE_STEP, detect_faces, detect_large_profiles  # noqa: E402
from skinseg_core.inference import Segmenter  # noqa: E402
from skinseg_core.imageio import read_photo  # noqa: E402
from skinseg_core.recipes import dataset_splits  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", default="lfw_parts,sfa,abdomen,ecu_subset")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--step", type=float, default=1.2, help="the coarser step to compare with the shipped one")
    args = parser.parse_args()
    splits = dataset_splits(args.data_root)
    gate = FaceColourGate()
    share = Segmenter(None, device="cpu").loaded.people_min_face_share
    steps = {f"step {SCALE_STEP} (shipped)": SCALE_STEP, f"step {args.step}": args.step}
    shipped, other = steps
    results = {}
    for name in args.sets.split(","):
        seconds = dict.fromkeys(steps, 0.0)
        found = dict.fromkeys(steps, 0)
        profile_seconds, without_face, with_profile = 0.0, 0, 0
        pairs = getattr(splits[name], args.split)
        for pair in pairs:
            rgb = read_photo(pair.image, min_long_side=gate.read_long_side).rgb
            for label, step in steps.items():  # in turns, so that the machine's load falls on both alike
                start = time.perf_counter()
                boxes = detect_faces(rgb, gate.detect_long_side, FIRST_PASS_MIN_FACE_PX, step)
                seconds[label] += time.perf_counter() - start
                found[label] += bool(boxes)
                if step == SCALE_STEP and not boxes:
                    start = time.perf_counter()
                    with_profile += bool(detect_large_profiles(rgb, share))
                    profile_seconds += time.perf_counter() - start
                    without_face += 1
        results[name] = {
            "photos": len(pairs),
            "with a face found": found,
            "ms per photo": {label: round(1000 * s / len(pairs), 1) for label, s in seconds.items()},
            "time ratio, coarser / shipped": round(seconds[other] / seconds[shipped], 3),
            "without a frontal face": {
                "photos": without_face, "with a large face seen from the side": with_profile,
                "ms per photo for that search": round(1000 * profile_seconds / max(without_face, 1), 1)},
        }
        print(json.dumps({name: results[name]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
