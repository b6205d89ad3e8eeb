"""Does the face colour gate cut diseased skin out of faces? (docs/adr/0023.)

The gate damps colours far from the skin it samples inside a photo's faces, and gives back what it took inside each
face's ellipse, inside the skin that remains and where the remaining skin borders it. A lesion is such a colour. None
of the clinical photos here shows a face, so this script makes the case: it cuts real lesions (their `masks_lesion`
pixels) out of the clinical photos and lays them, with a soft edge, on the skin of held-out LFW test faces, anywhere
in the face box grown 1.8 times about its centre: on the face, the hairline, the ears and the neck, so that many
touch the hair or the background, and many lie outside the face box. The pasted pixels are skin. It prints the share
of them called skin (and of those outside the face box), and the photos' skin Jaccard, with the gate and without,
from the same photos in one run.

    .venv/bin/python benchmarks/lesions_on_faces.py [--model FILE] [--photos 150] [--data-root ../shared/data]
        [--network auto|clinical|people]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skinseg_core.faces import detect_faces  # noqa: E402
from skinseg_core.imageio import Photo, read_mask, read_photo  # noqa: E402
from skinseg_core.inference import NETWORKS, Segmenter  # noqa: E402
from skinseg_core.metrics import confusion, jaccard  # noqa: E402
from skinseg_core.recipes import CLINICAL_SET, dataset_splits  # noqa: E402


def lesion_patches(data_root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rgb, alpha) crops around each clinical photo's lesions, where the lesion is not the whole frame."""
    patches = []
    for pair in dataset_splits(data_root)[CLINICAL_SET].test:
        lesion_path = pair.lesion_mask
        photo = read_photo(pair.image)
        lesion = read_mask(lesion_path, size=photo.full_size)
        if not 0.005 < lesion.mean() < 0.5:
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(lesion.astype(np.uint8))
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, w, h = stats[largest, :4]
        alpha = (labels[y:y + h, x:x + w] == largest).astype(np.float32)
        patches.append((photo.rgb[y:y + h, x:x + w].copy(), alpha))
    return patches


def paste(rgb: np.ndarray, skin: np.ndarray, box, patch, rng) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """The photo with `patch` laid on skin in and around the face `box`, at a random place and size; the pasted
    pixels' mask."""
    x, y, w, h = box
    x, y, w, h = x - 0.4 * w, y - 0.4 * h, 1.8 * w, 1.8 * h  # around the face too
    source, alpha = patch
    side = max(6, int(w / 1.8 * rng.uniform(0.15, 0.35)))
    scale = side / max(source.shape[:2])
    size = (max(3, round(source.shape[1] * scale)), max(3, round(source.shape[0] * scale)))
    source = cv2.resize(source, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.GaussianBlur(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), (0, 0), 1.0)
    top = int(np.clip(y + rng.uniform(0, h - size[1]), 0, rgb.shape[0] - size[1]))
    left = int(np.clip(x + rng.uniform(0, w - size[0]), 0, rgb.shape[1] - size[0]))
    window = (slice(top, top + size[1]), slice(left, left + size[0]))
    alpha = alpha * skin[window]  # on skin only: the reference mask stays right
    out = rgb.astype(np.float32)
    out[window] = out[window] * (1 - alpha[..., None]) + source * alpha[..., None]
    pasted = np.zeros(skin.shape, bool)
    pasted[window] = alpha > 0.5
    return np.clip(out, 0, 255).astype(np.uint8), pasted


def _shaded(rgb: np.ndarray, mask: np.ndarray, pasted: np.ndarray) -> np.ndarray:
    """The photo with what is called skin tinted green and the pasted lesion's outline in yellow."""
    out = rgb.astype(np.float32)
    out[mask] = out[mask] * 0.5 + np.array([0, 200, 0]) * 0.5
    contours, _ = cv2.findContours(pasted.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.ascontiguousarray(out.astype(np.uint8))
    cv2.drawContours(out, contours, -1, (255, 255, 0), 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--network", default="auto", choices=NETWORKS,
                        help="which of the model's networks runs with the gate (as `skinseg predict --network`)")
    parser.add_argument("--gate", action="append", default=[], metavar="SETTING=VALUE",
                        help="one of the gate's settings instead of the model file's (face_colour.FaceColourGate), "
                        "e.g. give_back_share=0.5 or raise_to=0; repeat for more")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here too")
    parser.add_argument("--sheet", type=Path, default=None,
                        help="write a PNG of the 6 photos where the gate loses most lesion pixels: the photo, then "
                        "the masks without and with the gate")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    patches = lesion_patches(args.data_root)
    gated = Segmenter(args.model, device="cpu", face_gate=True, network=args.network)
    for setting in args.gate:
        key, _, value = setting.partition("=")
        if key not in gated.face_gate.to_dict():
            parser.error(f"--gate {setting}: the gate has no setting {key!r}; it has "
                         f"{', '.join(gated.face_gate.to_dict())}")
        try:
            kind = type(getattr(gated.face_gate, key))
            gated.face_gate = replace(gated.face_gate, **{key: kind(float(value))})
        except ValueError as error:
            parser.error(f"--gate {setting}: {error}")
    segmenters = {"gate": gated,
                  "no gate": Segmenter(args.model, device="cpu", face_gate=False)}
    hits = {name: [] for name in segmenters}
    hits_outside = {name: [] for name in segmenters}  # the pasted pixels outside the face box
    scores = {name: [] for name in segmenters}
    used = 0
    looked: list[tuple[float, list[np.ndarray]]] = []
    for pair in dataset_splits(args.data_root)["lfw_parts"].test:
        if used == args.photos:
            break
        photo = read_photo(pair.image)
        skin = read_mask(pair.mask, size=photo.full_size)
        faces = detect_faces(photo.rgb)
        if not faces:
            continue
        rgb, pasted = photo.rgb, np.zeros(skin.shape, bool)
        for _ in range(int(rng.integers(1, 4))):
            rgb, more = paste(rgb, skin, faces[0], patches[int(rng.integers(len(patches)))], rng)
            pasted |= more
        if not pasted.any():
            continue
        used += 1
        x, y, w, h = faces[0]
        outside = pasted.copy()
        outside[y:y + h, x:x + w] = False
        masks = []
        for name, segmenter in segmenters.items():
            predicted = segmenter.predict_photo(Photo(rgb=rgb, full_size=photo.full_size)).mask(0.5)
            hits[name].append(float(predicted[pasted].mean()))
            if outside.any():
                hits_outside[name].append(float(predicted[outside].mean()))
            scores[name].append(jaccard(confusion(predicted, skin)))
            masks.append(predicted)
        looked.append((hits["no gate"][-1] - hits["gate"][-1], [rgb, *(_shaded(rgb, m, pasted) for m in masks[::-1])]))
    result = {name: {"photos": used, "lesion_px_called_skin_mean": round(float(np.mean(hits[name])), 4),
                     "photos_with_lesion_outside_the_face_box": len(hits_outside[name]),
                     "outside_the_face_box_called_skin_mean": round(float(np.mean(hits_outside[name])), 4),
                     "photos_with_half_the_lesion_lost": int(sum(h < 0.5 for h in hits[name])),
                     "skin_jaccard_mean": round(float(np.mean(scores[name])), 4)} for name in segmenters}
    print(f"{used} LFW test photos with 1-3 clinical lesions pasted on skin in and around the face")
    print("| | lesion px called skin (mean per photo) | of them outside the face box (photos) | photos with < half "
          "the lesion called skin | skin J |")
    print("|---|---:|---:|---:|---:|")
    for name, row in result.items():
        outside = (f"{row['outside_the_face_box_called_skin_mean']:.3f} "
                   f"({row['photos_with_lesion_outside_the_face_box']})")
        print(f"| {name} | {row['lesion_px_called_skin_mean']:.3f} | {outside} | "
              f"{row['photos_with_half_the_lesion_lost']} | {row['skin_jaccard_mean']:.3f} |")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    if args.sheet:
        worst = sorted(looked, key=lambda item: -item[0])[:6]
        rows = [np.concatenate([cv2.resize(t, (250, 250)) for t in tiles], axis=1) for _, tiles in worst]
        cv2.imwrite(str(args.sheet), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
