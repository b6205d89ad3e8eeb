"""Writes models/MODEL_CARD.md from the model's own config and the JSON that `skinseg report` and
`skinseg benchmark` produce, so every number in the card comes from a command in the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.flops import count_parameters, forward_gflops
from skinseg_core.report import BODY_SET, CROWD_PER_SIDE, CROWD_SET, GROUP_PER_SIDE, GROUP_SET

SET_TERMS = {
    "lfw_parts": "LFW Part Labels (Kae et al. 2013) on LFW-funneled: research use",
    "sfa": "SFA (Casati et al. 2013; FERET and AR images): research use, FERET under NIST's release agreement",
    "abdomen": "Abdominal skin (Topiwala et al. 2019): research use (web images)",
    "ecu_subset": "ECU face and skin (Phung et al. 2005), images 3899-3999: research use",
    "fasseg": "FASSEG (Khan et al. 2015/2017): research use, auxiliary face data",
    "clinical_fitz17k": "Fitzpatrick17k photos with DermSynth3D skin masks: CC BY-NC-SA 3.0, non-commercial research",
}


GAIN_START = {
    "best.json": "the pretrained stage, which never saw a clinical photo: a clinic's first use",
    "kfold": "per fold, the bundled recipe's k-fold model that never saw that fold: the bundled model meeting new "
             "clinical photos",
}


def _report_rows(report: dict[str, Any]) -> str:
    return report["markdown"]


def render_card(model_json: Path, report: dict[str, Any], benchmark: dict[str, Any],
                pretrained_report: dict[str, Any] | None = None, build_note: str | None = None,
                kfold_report: dict[str, Any] | None = None,
                finetune_gain: dict[str, Any] | list[dict[str, Any]] | None = None,
                table1: dict[str, Any] | None = None, carried: list[str] | None = None,
                int8: dict[str, Any] | None = None, carried_speed: str | None = None) -> str:
    """carried: '### ' sections of an earlier card (see `carried_sections`) put where sections of their kind go, for
    results a change did not touch or could not measure again (an inference setting leaves Table I's networks as they
    were); each says so, and why, in the note it carries. int8: the JSON of benchmarks/int8_quantisation.py.
    carried_speed: an earlier card's timings (see `carried_speed`), in place of `benchmark`'s, for a change that
    leaves them as they were on a day the machine could not time them again."""
    carried = list(carried or [])
    carried_kind = {kind: [block for block in carried if _section_kind(block) == kind]
                    for kind in ("kfold", "gain", "table1", "pretrained")}
    loaded = load_checkpoint(model_json)
    info, model = loaded.info, loaded.model
    size = loaded.input_size
    training = info.get("training", {})
    pretraining = training.get("stages", {}).get("pretraining", {}).get("settings", {})
    sets = training.get("sets", {})
    lines = [
        "# SkinSeg bundled model — model card",
        "",
        "**For research use only.** Not a medical device; masks must be checked by a person.",
        "",
        "## Model",
        f"- Name: `{info['name']}`, SkinSeg {info['skinseg_version']}, created {info['created']}",
        f"- Architecture: Dense Residual U-Net (Codella et al., EMBC 2018) at desktop size: `{json.dumps(info['model'])}`",
        f"- Parameters: {count_parameters(model):,}; weights file {loaded.weights_path.stat().st_size / 1e6:.2f} MB "
        f"(safetensors, sha256 `{info['weights_sha256'][:16]}…`)",
        f"- Input: the whole photo resized to {size} x {size}, {info.get('normalisation', 'RGB + HSV standardised per image and channel')}; output: "
        "probability of skin per pixel (re-scaled tanh), resized back to the photo's size; threshold "
        f"{info.get('threshold', 0.5)}"
        + ("; by default the network also runs on the left-right mirrored photo and the two probability maps are "
           "averaged (test-time flip, two forward passes per photo)" if info.get("test_time_flip") else "")
        + (f"; then the map is refined with the photo's colours before it is resized (a colour guided filter, He et "
           f"al. 2010, at {2 * size} px on the long side; its window radius is {info['guided_filter']['scale']:g} x the "
           "typical size of the skin regions the network found, within "
           f"{info['guided_filter']['min_radius']:g}-{info['guided_filter']['max_radius']:g} network pixels, eps "
           f"{info['guided_filter']['eps']:g}; docs/adr/0014)" if info.get("guided_filter") else "")
        + (f"; where frontal faces are found (OpenCV's Haar cascade, at {info['face_colour_gate']['detect_long_side']} "
           "px on the long side), colours far from the skin inside them are damped (face colour gate: a Gaussian of "
           "the faces' skin in CIE a*b*, kept within Mahalanobis distance "
           f"{info['face_colour_gate']['distance']:g}, fading beyond it; what it takes is given back inside each "
           "face's ellipse, where the remaining skin encloses it, and where its outline is at least "
           f"{info['face_colour_gate']['give_back_share']:.0%} remaining skin, so that lesions stay skin; and inside "
           "each face's ellipse, pixels of the faces' colour are raised to at least "
           f"{info['face_colour_gate']['raise_to']:g}, since the network under-calls small faces; docs/adr/0023"
           + ("; around each face, what the network calls skin just above it gives the colour of the hair (a "
              "Gaussian in L*a*b*), and pixels nearer it than the face's colour by a Mahalanobis margin of "
              f"{info['face_colour_gate']['hair_margin']:g}, darker and no redder than the face, outside the face's "
              "ellipse and joined to that band, are not skin: blond, brown and auburn hair of the face's hue is taken "
              "away, and bald scalps, shaded cheeks and lesions stay skin; docs/adr/0024"
              if info["face_colour_gate"].get("hair_margin") else "")
           + ("; faces too small for that search are looked for again on the photo at "
              f"{info['face_colour_gate']['small_face_long_side']} px, only around the small parts of what the "
              "network calls skin and only below the first search's sizes, so that a group photo's 15-40 px faces "
              "are found and a close-up is not searched again; below a small face its neck of the faces' colour is "
              "raised as well, and with several faces each face's own colour is raised in its own ellipse, so that "
              "a face of another skin tone than the rest of a group is called skin; docs/adr/0025"
              if info["face_colour_gate"].get("small_face_long_side") else "")
           + ("; and where the first search finds a face (or, with a network for photos of people, a large face seen "
              "from the side; docs/adr/0035), a photo whose colour balance (shades of grey, as "
              "log(R/G) and log(B/G)) lies beyond Mahalanobis distance "
              f"{info['face_colour_gate']['balance_radius']:g} of the training photos of people's is re-balanced "
              "before the network, its distance d becoming r^2 / d, so that a warm lamp's cast is mostly undone and a "
              "close-up, which has no face, is left as it is; docs/adr/0027"
              if info["face_colour_gate"].get("balance_radius") else "")
           + ("; before that, a photo whose light's colour changes from its left edge to its right (a plane fitted "
              "to the shades-of-grey estimates of 4 x 4 cells, its left-right slope) beyond Mahalanobis distance "
              f"{info['face_colour_gate']['slope_radius']:g} of the training photos of people's slopes is levelled "
              "by the same rule with a gain that changes across the photo, so that a lamp on one side and a window on "
              "the other become nearer one light; the top-bottom slope is left, since from top to bottom a photo's "
              "colours change with what it shows; docs/adr/0031"
              if info["face_colour_gate"].get("slope_radius") else "")
           + ")" if info.get("face_colour_gate") else ""),
        f"- GFLOPs per forward pass: {forward_gflops(model, size):.2f} at {size} px",
        *([f"- Network for photos of people: a second set of weights of the same architecture, "
           f"`{loaded.people.weights_path.name}` ({loaded.people.weights_path.stat().st_size / 1e6:.2f} MB, sha256 "
           f"`{loaded.people.info['weights_sha256'][:16]}…`), runs instead of the first where the first face search "
           f"finds a face at least {loaded.people_min_face_share:.0%} of the photo's width (a portrait or a few "
           "people, never a close-up or a crowd), or finds none but a face seen from the side is as large "
           "(docs/adr/0035): the first network tuned on the public sets alone and blended with "
           "it (stage 4 below), which calls less of such photos' clothing and hair skin and would call the clinical "
           "photos worse; one network runs per photo; docs/adr/0028"] if loaded.people is not None else []),
        "",
        "## Training data",
        "",
        "| set | train | validation | test (held out) | terms |",
        "|---|---:|---:|---:|---|",
    ]
    for name, counts in sets.items():
        lines.append(f"| {name} | {counts['train']} | {counts['val']} | {counts['test']} | {SET_TERMS.get(name, '')} |")
    lines += [
        "",
        "Clinical photos: all 15 are used to fine-tune the shipped model, so its clinical row below is *not* held out; "
        "the clinical k-fold below and the pretrained stage's clinical row (direct transfer) are.",
        *([f"Stage 1 re-colours the skin in {pretraining['skin_tone'] * 100:.0f} % of its items "
           "(`skinseg_core/skin_tone.py`: melanin and blood amounts make it brown, pale, red, purple or yellow-green, "
           "colours the public sets lack) and blanks the absolute colour channels in "
           f"{pretraining.get('colour_dropout', 0) * 100:.0f} % of them (docs/adr/0011, 0012)."]
          if pretraining.get("skin_tone") else []),
        *([f"Stage 2 also pastes training photos onto {training['backgrounds']} skin-free wallpaper photos from "
           "Debian's wallpaper packages (collages, and crops of them as negatives; `scripts/fetch_backgrounds.py`, "
           "free licences, never shipped)."] if training.get("backgrounds") else []),
        *(["Stage 2 also turns part of its items into close-ups: windows cut from inside the skin of a training "
           "photo and enlarged to the full frame (`skinseg_core/closeups.py`), because clinical photos are close-ups "
           "with no face or body to give context."]
          if training.get("stages", {}).get("fine-tuning", {}).get("settings", {}).get("closeups") else []),
        "",
        ("Recipe (three stages"
         + (" and a fourth for photos of people, below" if "people" in training.get("stages", {}) else "")
         + ", see `skinseg_core/recipes.py`): pretraining on the public sets with fixed shares per "
         "epoch, fine-tuning on the clinical photos mixed with the public sets, then a short clinical polish on the "
         "clinical photos alone with the pixels stage 2 still got wrong weighted up"
         f"{_blend_note(training)}:"
         if "clinical polish" in training.get("stages", {}) else
         "Recipe (two stages, see `skinseg_core/recipes.py`): pretraining on the public sets with fixed shares per "
         "epoch, then fine-tuning on the clinical photos mixed with the public sets:"),
        *(["",
           f"Stage 4 (`people`): the network for photos of people, the shipped weights tuned on the public sets alone "
           f"(stage 1's shares and settings at a lower rate, from the shipped weights) and blended "
           f"{training['stages']['people']['blend']:g} with them; its rate and length were chosen on the validation "
           "splits among 27 runs on a GPU, its seed among eight, and its blend where lesions pasted on faces are "
           "called skin as often as before (docs/adr/0028-0030)."]
          if "people" in training.get("stages", {}) else []),
        "",
        "```json",
        json.dumps(training.get("stages", {}), indent=2),
        "```",
        "",
        *([f"Build note: {build_note}", ""] if build_note else []),
        f"Reproduce: `{training.get('command', 'skinseg train --recipe bundled --data-root ../shared/data')} "
        "--install` (CPU, 2 cores), then `skinseg report --data-root ../shared/data --out runs/bundled/report`, "
        "the clinical k-fold `skinseg report --clinical-kfold 3 --pretrained runs/bundled/pretrain/best.json "
        "--backgrounds runs/backgrounds --out runs/kfold/report` and `skinseg benchmark --json`; "
        "`python -m skinseg_core.model_card` rewrites this card from those files.",
        "",
        "## Results (test photos, full resolution, one run; colour rules side by side)",
        "",
        _report_rows(report),
        "",
    ]
    if kfold_report is not None:
        folds = ", ".join(f"fold {f['fold']}: {f['model_jaccard']:.3f}" + _fold_blend(f) for f in kfold_report["folds"])
        lines += [f"### Clinical photos held out ({kfold_report['k']}-fold: the recipe after stage 1 run once per fold "
                  "from the same pretrained model, each photo scored by the model that never saw it)", "",
                  _report_rows(kfold_report), "", f"Mean skin Jaccard per fold: {folds}.", ""]
    lines += [line for block in carried_kind["kfold"] for line in (block, "")]
    gains = [finetune_gain] if isinstance(finetune_gain, dict) else list(finetune_gain or [])
    for finetune_gain in gains:
        weights = sorted({k[1:] for row in finetune_gain["folds"] for k in row if k.startswith("w") and
                          not k.endswith("_s")}, key=float)
        lines += ["### Fine-tuning in the app on corrected photos (`benchmarks/finetune_gain.py`)", "",
                  f"{len(finetune_gain['folds'])}-fold on the clinical photos, starting from `{finetune_gain['model']}` "
                  f"({finetune_gain.get('start') or GAIN_START.get(Path(finetune_gain['model']).name, 'the model in use')}); "
                  "the other folds' "
                  "reference masks play the user's corrections; mean per-image skin Jaccard on the held-out fold:", "",
                  "| fold | model in use | " + " | ".join(f"fine-tuned, changed pixels x{w}" for w in weights) + " |",
                  "|---|---:|" + "---:|" * len(weights)]
        for row in finetune_gain["folds"]:
            lines.append(f"| {row['fold']} | {row['in_use']:.3f} | " +
                         " | ".join(f"{row['w' + w]:.3f} ({row['w' + w + '_s']:.0f} s)" for w in weights) + " |")
        n = len(finetune_gain["folds"])
        lines += ["| mean | " + f"{sum(r['in_use'] for r in finetune_gain['folds']) / n:.3f} | " +
                  " | ".join(f"{sum(r['w' + w] for r in finetune_gain['folds']) / n:.3f}" for w in weights) + " |", ""]
    lines += [line for block in carried_kind["gain"] for line in (block, "")]
    if table1 is not None:
        lines += _table1_lines(table1)
    lines += [line for block in carried_kind["table1"] for line in (block, "")]
    if pretrained_report is not None:
        lines += ["### The pretrained stage alone (before fine-tuning; clinical photos never seen)", "",
                  _report_rows(pretrained_report), ""]
    lines += [line for block in carried_kind["pretrained"] for line in (block, "")]
    behind = [
        f"{name} ({metric.replace('_', ' ')})"
        for name, entry in [*report["sets"].items(), *(kfold_report or {}).get("sets", {}).items()]
        for metric in ("jaccard", "background_jaccard")
        if any(entry["methods"]["model"]["summary"][metric]["mean"] <= entry["methods"][rule]["summary"][metric]["mean"]
               for rule in entry["methods"] if rule != "model")
    ]
    lines += [
        "## Where it does not yet beat both colour rules",
        "",
        ("None: the model beats both rules on every test set, on skin and background Jaccard."
         if not behind else "On: " + ", ".join(behind) + ". These are open work (issue 3)."),
        "",
        "## Speed on the machine that made this card",
        "",
        carried_speed or
        f"`skinseg benchmark` ({benchmark.get('device')}, backend {benchmark.get('backend')}): forward pass "
        f"{benchmark.get('forward_ms')} ms (torch eager {benchmark.get('forward_torch_ms')} ms, ONNX Runtime "
        f"{benchmark.get('forward_onnx_ms')} ms); 12 MP JPEG to full-size mask {benchmark.get('photo_12mp_ms')} ms"
        f"{_photo_steps(benchmark)}; 1 MP {benchmark.get('photo_1mp_ms')} "
        f"ms; 50 MP {benchmark.get('photo_50mp_ms')} ms.",
        "",
        *_int8_lines(int8),
        "## Limits",
        "- Trained on few photos of people in real scenes (ECU, 69 training photos): expect misses on small faces in "
        f"group photos{_group_scale_note(report)} and false skin on skin-coloured clutter (wood, sand). Seen on test "
        "photos: white, pale, red or orange clothing and blond or red hair are sometimes called skin, and "
        "depigmented patches (vitiligo) are partly missed; on web photos the network finds nearly all skin but "
        "over-calls (docs/adr/0009, 0013)."
        + (" The face colour gate takes much of that away where it finds a frontal face, and nothing where it finds "
           "none (profiles, backs of heads, hands and legs alone, faces under about 20 px at 800 px on the photo's "
           "long side, and small faces within a large part of skin, such as a crowd in swimwear); hair of the face's "
           "hue is taken away only where it is darker and no redder than the face, so red hair and "
           "hair beside the face's ellipse often stay, and so do eyes and brows, which some sets' masks leave out; "
           "a dark lesion joined to dark hair above the face can be taken with the hair (docs/adr/0023, 0024)."
           if info.get("face_colour_gate") else ""),
        *(["- The face colour gate can take diseased skin at the edge of the skin around a face (hairline, ears, "
           "neck): with clinical lesions pasted on and around LFW test faces, "
           + ("0.866 of their pixels are called skin against 0.973 without the gate, and 0.736 of those outside the "
              "face box against 0.962 (`benchmarks/lesions_on_faces.py`; the network for photos of people, which runs "
              "on these photos, moved them from 0.921 and 0.844, its first version to 0.884 and 0.796, its second "
              "to 0.861 and 0.733, its third to 0.859 and 0.725; levelling the light's left-right slope then raised "
              "them to 0.866 and 0.736; the colour balance step from 0.926 and 0.851, the hair step by under 0.001; "
              "docs/adr/0028-0031). "
              if loaded.people is not None else
              "0.921 of their pixels are called skin against 0.973 without the gate, and 0.844 of those outside the "
              "face box against 0.962 (`benchmarks/lesions_on_faces.py`; the hair step moved these by under 0.001, "
              "the colour balance step from 0.926 and 0.851). ")
           + "A lesion inside the face's ellipse or enclosed by skin stays skin. "
           "`skinseg predict --no-face-gate` turns it off, and so does the app's Segmentation › Face Colour Gate."]
         if info.get("face_colour_gate") else []),
        *_bodies_limit(report),
        "- The clinical set is small (15 photos, mostly close-ups); background rejection on clinical photos is "
        "measured on little background: 8 of the 15 reference masks have no background at all, and there a "
        "photo's background Jaccard is 1 when the model calls every pixel skin and 0 when it calls one pixel "
        "background, so the clinical mean moves in steps of 1/15 (docs/adr/0014). In the k-fold, three of the 15 "
        "score below 0.8, all frames full of skin of which the model calls part background: the dark purple body "
        "of a tumour on type VI skin (lesion pixels called skin on types IV-VI: 0.76), and pale skin near the "
        "frame's edges in two pale close-ups with red plaques (docs/adr/0011, 0012; before the guided filter).",
        "- The clinical polish (stage 3) trades web-photo accuracy for clinical accuracy: from stage 2 to the "
        "shipped weights (the blend under Recipe), LFW test skin Jaccard falls 0.712 -> 0.647 and ECU 0.675 -> "
        "0.600, while the clinical k-fold rises 0.882 -> 0.927 (docs/adr/0012, measured before the guided filter); "
        "on faces as small as in group photos the polish helps instead (lfw_groups 0.477 -> 0.565), so the trade "
        "cannot be avoided by choosing the weights by the photo's share of skin (docs/adr/0013)"
        + ("; choosing them by the size of the faces found avoids part of it: the network for photos of people "
           "runs where a face is large, and close-ups and crowds keep the polished network (docs/adr/0028)."
           if loaded.people is not None else "."),
        "- The guided filter sharpens edges and takes spill off hair and clothing beside the skin, but it cannot "
        "undo what the network calls skin with confidence (a red scarf, red hair: docs/adr/0014).",
        "- On web photos of people the default threshold (0.5) still over-calls skin (hair, white clothing): raising "
        "it to 0.6-0.7 with the app's threshold slider suits such photos better (with the guided filter and the "
        "face colour gate, ECU test 0.700 -> 0.721-0.723, LFW 0.717 -> 0.736-0.747, measured before the network "
        "for photos of people; docs/adr/0023-0025), while "
        "close-ups and clinical photos are best at 0.5 or below (clinical background Jaccard 0.520 at 0.5, 0.461 at "
        "0.55). Steps after the network that take more of it away (weak parts of the mask, a per-photo colour "
        "model, a search for profile and tilted faces) were measured and take skin too, so they do not run "
        "(docs/adr/0026).",
        "- Coloured light (ecu_coloured_light, clinical_coloured_light): under a 4000 K lamp with the camera left at "
        "daylight the network calls much of a scene skin. The colour balance step gives back part of it where a "
        "face is found (ECU test skin Jaccard in daylight 0.700; under the lamp 0.473 without the step, 0.547 with "
        "it; measured before the network for photos of people, which raised the four lights together from 0.615 to "
        "0.695 and the lamp to 0.690; docs/adr/0029, 0030). A lamp on one side and daylight on the other no single "
        "gain undoes (0.502; 0.607 with that network; training stage 4 under such light did not help: docs/adr/0030): "
        "levelling the change of the light's colour from left to right gives back half of it (0.607 -> 0.682; "
        "docs/adr/0031), but only for light that changes from side to side, not from top to bottom, and it can "
        "move a photo whose colours change across it by content (a blue sweater on one side): on drawn mixed lights "
        "of any direction it moved 19 of 96 photos, 11 up and 8 down, the mean by +0.001; "
        "the model stays above both colour rules. Cool and green light cost the web photos little and the clinical "
        "backgrounds more (0.520 -> 0.396 / 0.445): a close-up has no face, so it is never re-balanced, since from "
        "colour alone a close-up of skin cannot be told from a scene under a warm lamp (docs/adr/0027).",
        *(["- Paper Table I at this desktop size is not in this card yet."]
          if table1 is None and not carried_kind["table1"] else []),
    ]
    return "\n".join(lines) + "\n"


def _blend_note(training: dict[str, Any]) -> str:
    blend = training["stages"]["clinical polish"].get("blend", 1.0)
    if blend >= 1.0:
        return ""
    return f"; the shipped weights are {1 - blend:.1f} x stage 2 + {blend:.1f} x stage 3 (weight-space blend, WiSE-FT)"


def _fold_blend(fold: dict[str, Any]) -> str:
    blend = fold.get("polish_blend")  # reports from before the blend could step down lack it
    return f" (polish blend {blend:.1f})" if blend is not None else ""


def _group_scale_note(report: dict[str, Any]) -> str:
    sets = report["sets"]
    if GROUP_SET not in sets or "lfw_parts" not in sets:
        return ""
    one, grouped = (sets[name]["methods"]["model"]["summary"]["jaccard"]["mean"] for name in ("lfw_parts", GROUP_SET))
    crowd = (f", {sets[CROWD_SET]['methods']['model']['summary']['jaccard']['mean']:.3f} tiled {CROWD_PER_SIDE} x "
             f"{CROWD_PER_SIDE} as {CROWD_SET}" if CROWD_SET in sets else "")
    return (f" (LFW's test photos: skin Jaccard {one:.3f} one by one, {grouped:.3f} tiled {GROUP_PER_SIDE} x "
            f"{GROUP_PER_SIDE} as {GROUP_SET}{crowd})")


def _bodies_limit(report: dict[str, Any]) -> list[str]:
    name = BODY_SET[0]
    if name not in report["sets"]:
        return []
    methods = report["sets"][name]["methods"]

    def scores(method: str) -> str:
        summary = methods[method]["summary"]
        return f"{summary['jaccard']['mean']:.3f} / {summary['background_jaccard']['mean']:.3f}"

    return [f"- Photos of people with no face in view ({name}: bodies, arms and hands) get neither the network for "
            "photos of people nor the face colour gate, and the first network, polished on clinical close-ups, calls "
            f"skin-coloured clothing and clutter skin there (test skin / background Jaccard {scores('model')}, the "
            f"Kovac rule {scores('kovac-rgb')}). The network for photos of people does better on them but loses "
            "lesion pixels on wide clinical shots, and no cue found so far tells such photos from those (docs/adr/"
            "0034); short fine-tunes of the first network with such photos lifted them past both colour rules but cost "
            "the clinical photos and the crowd pictures (docs/adr/0036). The user can choose the network for photos of "
            "people for such photos: Segmentation › Network › People in Scenes in the app, `--network people` on the "
            "command line (docs/adr/0036)."]


def _table1_lines(table1: dict[str, Any]) -> list[str]:
    spec = table1["spec"]
    pre, clin = spec.get("pretrain_settings", {}), spec.get("clinical_settings", {})
    budget = (f"pretraining {pre.get('epochs')} epochs x {pre.get('steps_per_epoch') or 'all'} steps, clinical runs "
              f"{clin.get('epochs')} epochs x {clin.get('steps_per_epoch') or 'all'} steps, batch "
              f"{pre.get('batch_size')}, {pre.get('optimizer', 'sgd')} at {spec.get('learning_rate')} "
              f"(fine-tuning a tenth), augmentation {pre.get('augmentation')}")
    folders = ", ".join(Path(f).name for f in spec["pretrain_folders"])
    return ["### Paper Table I at desktop size (`skinseg experiment`)", "",
            f"Both architectures with the bundled model's size `{json.dumps(spec.get('model_overrides', {}))}`, "
            f"pretrained on {folders} (at most {spec.get('max_pretrain_per_folder') or 'all'} photos each); clinical "
            f"photos in {spec['folds']} folds. Budget, the same for both: {budget}. A CPU-budget run, far shorter "
            "than the bundled recipe, so it compares the scenarios and architectures, not the shipped model:", "",
            table1["markdown"], "", *_table1_background(table1)]


def _table1_background(table1: dict[str, Any]) -> list[str]:
    """Background Jaccard per architecture and scenario: on close-ups, skin Jaccard alone flatters a network that
    calls nearly everything skin."""
    per_arch = []
    for arch, entry in table1.get("architectures", {}).items():
        scores = ", ".join(f"{name.replace('_', ' ')} {result['summary']['background_jaccard']['mean']:.2f}"
                           for name, result in entry["scenarios"].items())
        per_arch.append(f"{arch}: {scores}")
    if not per_arch:
        return []
    return ["Most clinical photos are close-ups (14 of the 15 are more than 80 % skin), so a network that calls "
            "nearly everything skin scores a high skin Jaccard here; background Jaccard (mean) tells such a network "
            "apart: " + "; ".join(per_arch) + ".", ""]


_KINDS = {"### Clinical photos held out": "kfold", "### Fine-tuning in the app": "gain", "### Paper Table I": "table1",
          "### The pretrained stage alone": "pretrained"}


def _section_kind(block: str) -> str:
    for prefix, kind in _KINDS.items():
        if block.startswith(prefix):
            return kind
    raise ValueError(f"cannot carry over a section headed {block.splitlines()[0]!r}: only {sorted(_KINDS)}")


CARRIED_NOTE = "this change did not touch its inputs"
_CARRIED_PREFIX = "*Carried over unchanged from the previous card:"


def carried_sections(card: str, needles: list[str]) -> list[str]:
    """The '### ' sections of `card` (heading to the next heading) that contain each needle, one section per needle,
    marked as carried over. A needle is TEXT or TEXT::WHY (why the section was not measured again; default
    CARRIED_NOTE). A needle that matches no section or several is an error, so nothing is carried by accident."""
    blocks, current = [], None
    for line in card.splitlines():
        if line.startswith("#"):
            if current is not None:
                blocks.append("\n".join(current).strip())
            current = [line] if line.startswith("### ") else None
        elif current is not None:
            current.append(line)
    if current is not None:
        blocks.append("\n".join(current).strip())
    chosen = []
    for spec in needles:
        needle, _, why = spec.partition("::")
        matches = [block for block in blocks if needle in block]
        if len(matches) != 1:
            raise ValueError(f"{len(matches)} sections of the earlier card contain {needle!r}; name exactly one")
        _section_kind(matches[0])
        heading, _, body = matches[0].partition("\n")
        # A section carried before loses its old mark (and the blank line after it), so carrying again adds nothing.
        body = "\n".join(line for line in body.splitlines() if not line.startswith(_CARRIED_PREFIX)).strip("\n")
        chosen.append(f"{heading}\n\n{_CARRIED_PREFIX} {why or CARRIED_NOTE}.*\n\n{body}")
    return chosen


def carried_speed(card: str, why: str) -> str:
    """The timings paragraph of an earlier card's speed section, marked as carried over and why."""
    section = card.split("## Speed on the machine that made this card", 1)
    if len(section) != 2:
        raise ValueError("the earlier card has no speed section to carry over")
    # Its first paragraph, past the mark of an earlier carry-over: the int8 verdict and the limits follow it.
    paragraphs = [p.strip() for p in section[1].split("\n\n") if p.strip() and not p.strip().startswith(_CARRIED_PREFIX)]
    if not paragraphs or paragraphs[0].startswith("#"):
        raise ValueError("the earlier card's speed section has no timings to carry over")
    return f"{_CARRIED_PREFIX} {why}.*\n\n{paragraphs[0]}"


def _photo_steps(benchmark: dict[str, Any]) -> str:
    """' with the test-time flip, the guided filter and ...': the steps the photo timings include."""
    steps = [name for key, name in (("test_time_flip", "the test-time flip"), ("guided_filter", "the guided filter"))
             if benchmark.get(key)]
    if benchmark.get("face_colour_gate"):
        ratio = benchmark.get("face_gate_time_ratio_12mp")
        steps.append("the face colour gate (both face searches and the gate on a 4:3 photo "
                     f"{benchmark.get('face_gate_ms')} ms"
                     + (f"; with / without it, timed in turns: {ratio}" if ratio else "") + ")")
    if not steps:
        return ""
    return " with " + (steps[0] if len(steps) == 1 else ", ".join(steps[:-1]) + " and " + steps[-1])


def _int8_lines(int8: dict[str, Any] | None) -> list[str]:
    """The int8 verdict (issue 3: use int8 only if faster and within 0.005 Jaccard of fp32 on every test set)."""
    if not int8:
        return []
    changes = {(name, kind): by_variant["int8"][i] - by_variant["fp32"][i]
               for name, by_variant in int8["scores"].items() for i, kind in enumerate(("skin", "background"))}
    (worst_set, worst_kind), worst = max(changes.items(), key=lambda item: abs(item[1]))
    ms = int8["forward_ms"]
    return [
        f"int8 (ONNX Runtime static quantisation, calibrated on {int8['calibration_photos']} training photos"
        f"{' and their mirror images' if int8.get('calibration_flip') else ''}; `benchmarks/int8_quantisation.py`, "
        f"the two timed in turns in one run): int8 / fp32 time "
        f"{ms['1']['int8'] / ms['1']['fp32']:.2f} for one forward pass, {ms['2']['int8'] / ms['2']['fp32']:.2f} for "
        f"two (the flip); "
        f"largest change in test Jaccard {worst:+.4f} ({worst_set}, {worst_kind}; allowed 0.005), so inference "
        f"{'runs int8' if int8['qualifies'] else 'stays fp32'}.",
        "",
    ]


def _gain(spec: str) -> dict[str, Any]:
    path, _, start = spec.partition("::")
    gain = json.loads(Path(path).read_text())
    return {**gain, "start": start} if start else gain


def main() -> None:
    import argparse

    from skinseg_core.paths import bundled_model_path, model_card_path

    parser = argparse.ArgumentParser(description="Write models/MODEL_CARD.md from report and benchmark JSON.")
    parser.add_argument("--model", type=Path, default=bundled_model_path())
    parser.add_argument("--report", type=Path, required=True, help="report.json of `skinseg report --out`")
    parser.add_argument("--pretrained-report", type=Path, default=None)
    parser.add_argument("--kfold-report", type=Path, default=None, help="report.json of `skinseg report --clinical-kfold`")
    parser.add_argument("--finetune-gain", action="append", default=None, metavar="FILE[::START]",
                        help="--out JSON of benchmarks/finetune_gain.py (repeat for several); after '::', what the "
                             "folds' starting models are, in words")
    parser.add_argument("--table1", type=Path, default=None, help="table1.json of `skinseg experiment`")
    parser.add_argument("--benchmark", type=Path, required=True, help="output of `skinseg benchmark --json`")
    parser.add_argument("--int8", type=Path, default=None, help="--json output of benchmarks/int8_quantisation.py")
    parser.add_argument("--out", type=Path, default=model_card_path())
    parser.add_argument("--build-note", default=None, help="how this build departed from the recipe, if it did")
    parser.add_argument("--carry", action="append", default=None, metavar="TEXT",
                        help="carry over, unchanged, the '###' section of the current card that contains TEXT (the "
                             "clinical k-fold, a fine-tuning table, Table I or the pretrained stage) when a change did "
                             "not touch its inputs; TEXT::WHY says why otherwise; repeat for several")
    parser.add_argument("--carry-speed", default=None, metavar="WHY",
                        help="carry over the current card's timings, unchanged, instead of --benchmark's, saying why "
                             "(a change that leaves them as they were, on a day the machine ran slower)")
    args = parser.parse_args()
    carried = carried_sections(args.out.read_text(encoding="utf-8"), args.carry) if args.carry else None
    speed = carried_speed(args.out.read_text(encoding="utf-8"), args.carry_speed) if args.carry_speed else None
    card = render_card(args.model, json.loads(args.report.read_text()), json.loads(args.benchmark.read_text()),
                       json.loads(args.pretrained_report.read_text()) if args.pretrained_report else None,
                       args.build_note, json.loads(args.kfold_report.read_text()) if args.kfold_report else None,
                       [_gain(spec) for spec in args.finetune_gain or []],
                       json.loads(args.table1.read_text()) if args.table1 else None, carried,
                       json.loads(args.int8.read_text()) if args.int8 else None, speed)
    args.out.write_text(card, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
