"""A 12 MP photo of a person to its full-size mask, beside `skinseg benchmark`'s synthetic 12 MP photo, in one run.

`skinseg benchmark` needs no data, so its photos are synthetic, and its 12 MP photo has no face in it: the face colour
gate's first search runs and finds nothing, so the steps that run only where a face is found are not timed (the
colour balance steps, the network for photos of people instead of the first, the second face search around small
skin parts, the gate itself). Most photos of people have a face. This times one: an ECU held-out photo enlarged to
12 MP (its aspect ratio kept) and saved as a JPEG (quality 90), under daylight and under `lighting.py`'s mixed light (where the
left-right levelling runs too), each timed in turns with the synthetic photo so that the machine's drift falls on all
alike. Medians in ms, and the ratios to the synthetic photo; figures only, nothing asserted.

    python benchmarks/photo_of_a_person.py [--data-root ../shared/data] [--photo 3926] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skinseg_core.benchmark import synthetic_photo  # noqa: E402
from skinseg_core.imageio import read_photo, write_mask_png  # noqa: E402
from skinseg_core.inference import Segmenter  # noqa: E402
from skinseg_core.lighting import relight  # noqa: E402

SIZE = (4000, 3000)  # the synthetic photo's, as `skinseg benchmark` makes it
MEGAPIXELS = 12


def enlarged(rgb, path: Path) -> Path:
    """`rgb` enlarged to 12 MP, its aspect ratio kept (a crop could cut the face off), and written as a JPEG."""
    height, width = rgb.shape[:2]
    scale = (MEGAPIXELS * 1e6 / (width * height)) ** 0.5
    big = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--photo", default="3926", help="an ECU photo's name (default: a held-out one)")
    parser.add_argument("--model", default=None, help="model file (default: the bundled model)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    source = args.data_root / "ecu_subset" / "images" / f"{args.photo}.jpg"
    if not source.is_file():
        parser.error(f"{source} does not exist: pass --data-root pointing at the shared data, or another --photo")
    segmenter = Segmenter(args.model, device="cpu")
    rgb = read_photo(source).rgb
    with tempfile.TemporaryDirectory(prefix="skinseg-bench-") as tmp:
        folder = Path(tmp)
        photos = {
            "synthetic, no face": synthetic_photo(folder / "synthetic.jpg", *SIZE),
            "person, daylight": enlarged(rgb, folder / "daylight.jpg"),
            "person, mixed light": enlarged(relight(rgb, "mixed"), folder / "mixed.jpg"),
        }
        found = {}
        for name, path in photos.items():
            photo = segmenter.read(path)
            first = segmenter.face_gate.first_faces(photo.rgb) if segmenter.face_gate else []
            found[name] = {"faces": len(first),
                           "network for people": segmenter.is_people_photo(photo.rgb, first)}
            write_mask_png(folder / "warm-up.png", segmenter.predict(path).mask(0.5))
        times: dict[str, list[float]] = {name: [] for name in photos}
        for _ in range(args.repeats):
            for name, path in photos.items():
                start = time.perf_counter()
                write_mask_png(folder / f"{name}.png", segmenter.predict(path).mask(0.5))
                times[name].append((time.perf_counter() - start) * 1000.0)
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["synthetic, no face"]
    print(json.dumps({
        "device": segmenter.device_description,
        "photo": f"ecu_subset {args.photo}, enlarged to {MEGAPIXELS} MP",
        "repeats": args.repeats,
        "found": found,
        "ms": {name: round(value, 1) for name, value in medians.items()},
        "ratio to the synthetic photo": {name: round(value / base, 3) for name, value in medians.items()},
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
