"""The bundled model's report: test scores per set next to the two colour rules, measured in one run.

Test sets (see recipes.dataset_splits): LFW's official test split, the held-out 20 % of SFA, abdomen and ECU, and
the clinical photos. For every photo the model and both colour rules are scored at the photo's full resolution:
skin Jaccard and Dice, background Jaccard (how well non-skin is rejected), and on clinical photos the share of
lesion pixels called skin (diseased skin is skin). Two more sets are built from LFW's test split: its photos tiled
5 x 5 into 1250 px pictures, so that faces are as small as in group photos (group_pictures.py), and tiled 16 x 16 into
1280 px pictures, faces about 30 px wide, as in a crowd or the back rows of a group photo. And ECU's and the clinical
photos are scored again under coloured and mixed light (lighting.py), and ECU's photos cut below their faces are scored
as photos of bodies, arms and hands with no face in view (body_crops.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from skinseg_core.baselines import COLOUR_RULES
from skinseg_core.body_crops import body_pairs
from skinseg_core.data import SamplePair
from skinseg_core.group_pictures import tile_pairs
from skinseg_core.imageio import read_mask, read_photo
from skinseg_core.inference import Segmenter
from skinseg_core.lighting import relit_pairs
from skinseg_core.metrics import Counts, confusion, summarize
from skinseg_core.recipes import dataset_splits

TEST_SETS = ("lfw_parts", "sfa", "abdomen", "ecu_subset", "clinical_fitz17k")
# The validation splits (what choosing between runs may look at): the clinical photos have none.
VAL_SETS = ("lfw_parts", "sfa", "abdomen", "ecu_subset")
SPLITS = ("test", "val")
GROUP_SET = "lfw_groups"
GROUP_PER_SIDE = 5
GROUP_CELL = 250  # LFW's own photo size: each photo keeps its pixels, the picture is 5 x 250 px wide
# Faces of 15-40 px, as the group photos have: LFW's faces (about 40 % of a photo's width) in 80 px cells.
CROWD_SET = "lfw_crowds"
CROWD_PER_SIDE = 16
CROWD_CELL = 80
TILED_SETS = {GROUP_SET: (GROUP_PER_SIDE, GROUP_CELL, "so that faces are as small as in group photos"),
              CROWD_SET: (CROWD_PER_SIDE, CROWD_CELL, "faces about 30 px wide, as in a crowd or a group photo's back "
                                                      "rows")}


# Held-out photos under coloured and mixed light (lighting.py): the web photos of people, and the clinical photos.
LIT_SETS = {"ecu_coloured_light": "ecu_subset", "clinical_coloured_light": "clinical_fitz17k"}


# ... and the web photos of people cut below their faces: bodies, arms and hands with no face in view.
BODY_SET = ("ecu_bodies", "ecu_subset")


def body_description(split: str) -> str:
    photos = "test" if split == "test" else "validation"
    return (f"ecu_subset's {photos} photos cut a third of a face's height below their lowest face: bodies, arms and "
            "hands with no face in view")


def lit_description(split: str, source: str) -> str:
    photos = "test" if split == "test" else "validation"
    return (f"{source}'s {photos} photos, each under four lights: a 4000 K lamp, 10000 K shade, a green fluorescent "
            "tube, and a lamp at the left fading to daylight at the right (the camera's white balance kept at daylight)")


def group_description(split: str = "test", name: str = GROUP_SET) -> str:
    photos = "test" if split == "test" else "validation"
    per_side, cell, why = TILED_SETS[name]
    return f"LFW's {photos} photos tiled {per_side} x {per_side} into {per_side * cell} px pictures, {why}"


def _lesion_mask(pair: SamplePair, size: tuple[int, int]) -> np.ndarray | None:
    return read_mask(pair.lesion_mask, size=size) if pair.lesion_mask.exists() else None


def collect_pairs(
    segmenter: Segmenter, pairs: list[SamplePair], threshold: float = 0.5,
    progress: Callable[[Iterable, int, str], Iterable] | None = None, label: str = "",
) -> dict[str, Any]:
    """Per-method per-photo counts (and lesion pixels called skin) for one set; methods are 'model' and each
    colour rule. `merge_collected` pools several of these (k-fold parts); `summarise_collected` scores them."""
    counts: dict[str, list[Counts]] = {"model": [], **{name: [] for name in COLOUR_RULES}}
    lesion_hits: dict[str, list[int]] = {name: [] for name in counts}
    lesion_total: list[int] = []
    iterable = pairs if progress is None else progress(pairs, len(pairs), label)
    for pair in iterable:
        photo = read_photo(pair.image)
        target = read_mask(pair.mask, size=photo.full_size)
        predictions = {"model": segmenter.predict_photo(photo).mask(threshold)}
        for name, rule in COLOUR_RULES.items():
            predictions[name] = rule(photo.rgb)
        lesion = _lesion_mask(pair, photo.full_size)
        if lesion is not None and lesion.any():
            lesion_total.append(int(lesion.sum()))
        for name, predicted in predictions.items():
            counts[name].append(confusion(predicted, target))
            if lesion is not None and lesion.any():
                lesion_hits[name].append(int((predicted & lesion).sum()))
    return {"n": len(pairs), "counts": counts, "lesion_hits": lesion_hits, "lesion_total": lesion_total}


def merge_collected(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged = {"n": sum(p["n"] for p in parts), "counts": {}, "lesion_hits": {},
              "lesion_total": [t for p in parts for t in p["lesion_total"]]}
    for key in ("counts", "lesion_hits"):
        for name in parts[0][key]:
            merged[key][name] = [c for p in parts for c in p[key][name]]
    return merged


def summarise_collected(collected: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"n": collected["n"], "methods": {}}
    for name, per_image in collected["counts"].items():
        entry: dict[str, Any] = {"summary": summarize(per_image)}
        if collected["lesion_total"]:
            entry["lesion_pixels_called_skin"] = sum(collected["lesion_hits"][name]) / sum(collected["lesion_total"])
        result["methods"][name] = entry
    return result


def score_pairs(
    segmenter: Segmenter, pairs: list[SamplePair], threshold: float = 0.5,
    progress: Callable[[Iterable, int, str], Iterable] | None = None, label: str = "",
) -> dict[str, Any]:
    """Per-method summaries for one set (see `collect_pairs`)."""
    return summarise_collected(collect_pairs(segmenter, pairs, threshold, progress, label))


def bundled_report(model: str | Path | None, data_root: str | Path, device: str = "auto",
                   progress: Callable[[Iterable, int, str], Iterable] | None = None,
                   split: str = "test", network: str = "auto") -> dict[str, Any]:
    """Scores per set. `split` "val" scores the validation splits instead (no clinical set; the group pictures
    are tiled from LFW's validation photos): for choosing between training runs without touching the test sets.
    `network`: which of the model's networks runs (`inference.NETWORKS`; "auto" as the app and `skinseg predict`)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    segmenter = Segmenter(model, device=device, network=network)
    splits = dataset_splits(data_root)
    report: dict[str, Any] = {"model": segmenter.loaded.name, "weights_sha256": segmenter.loaded.info.get(
        "weights_sha256"), "split": split, "network": network, "sets": {}}
    for name in TEST_SETS if split == "test" else VAL_SETS:
        report["sets"][name] = score_pairs(segmenter, getattr(splits[name], split), progress=progress, label=name)
    for name, (per_side, cell, _) in TILED_SETS.items():
        with tempfile.TemporaryDirectory(prefix="skinseg-groups-") as folder:
            pictures = tile_pairs(getattr(splits["lfw_parts"], split), per_side, Path(folder), cell=cell)
            report["sets"][name] = {**score_pairs(segmenter, pictures, progress=progress, label=name),
                                    "description": group_description(split, name)}
    for name, source in LIT_SETS.items():
        photos = getattr(splits[source], split)
        if not photos:
            continue  # the clinical photos have no validation split
        with tempfile.TemporaryDirectory(prefix="skinseg-light-") as folder:
            report["sets"][name] = {**score_pairs(segmenter, relit_pairs(photos, Path(folder)), progress=progress,
                                                  label=name),
                                    "description": lit_description(split, source)}
    name, source = BODY_SET
    with tempfile.TemporaryDirectory(prefix="skinseg-bodies-") as folder:
        report["sets"][name] = {**score_pairs(segmenter, body_pairs(getattr(splits[source], split), Path(folder)),
                                              progress=progress, label=name),
                                "description": body_description(split)}
    report["markdown"] = report_markdown(report)
    return report


def report_markdown(report: dict[str, Any]) -> str:
    methods = ["model", *COLOUR_RULES]
    lines = [
        "| test set | photos | method | skin Jaccard (mean ± std) | Dice | pooled Jaccard | background Jaccard "
        "| lesion px called skin |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for set_name, entry in report["sets"].items():
        for method in methods:
            m = entry["methods"][method]
            s = m["summary"]
            lesion = m.get("lesion_pixels_called_skin")
            lines.append(
                f"| {set_name} | {entry['n']} | {method} | {s['jaccard']['mean']:.3f} ± {s['jaccard']['std']:.3f} "
                f"| {s['dice']['mean']:.3f} | {s['jaccard']['pooled']:.3f} | {s['background_jaccard']['mean']:.3f} "
                f"| {'' if lesion is None else f'{lesion:.3f}'} |"
            )
    notes = [f"{name}: {entry['description']}." for name, entry in report["sets"].items() if "description" in entry]
    network = report.get("network", "auto")
    if network != "auto":
        notes.append(f"model: run with `--network {network}` on every photo, not with the network the faces found "
                     "choose.")
    return "\n".join(lines + ([""] + notes if notes else []))
