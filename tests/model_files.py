"""Model files for tests that need one with a particular setting."""

from __future__ import annotations

from pathlib import Path

import torch

from skinseg_core.checkpoint import PEOPLE_KEY, CheckpointMeta, load_checkpoint, save_checkpoint
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.models import SegmentationNet
from skinseg_core.refine import GuidedFilter


def flipping_copy(model_json: Path, out: Path) -> Path:
    """The same network and name saved to `out` as a model that asks for the test-time flip (as the bundled one does)."""
    loaded = load_checkpoint(model_json)
    return save_checkpoint(loaded.model, out, CheckpointMeta(name=loaded.name, test_time_flip=True))


def refining_copy(model_json: Path, out: Path, settings: GuidedFilter = GuidedFilter(),
                  test_time_flip: bool = False) -> Path:
    """The same network and name saved to `out` as a model that asks for the guided filter (as the bundled one does,
    with the flip too when `test_time_flip`)."""
    loaded = load_checkpoint(model_json)
    return save_checkpoint(loaded.model, out, CheckpointMeta(name=loaded.name, guided_filter=settings.to_dict(),
                                                             test_time_flip=test_time_flip))


def gating_copy(model_json: Path, out: Path) -> Path:
    """The same network and name saved to `out` as a model that asks for the face colour gate (as the bundled one
    does)."""
    loaded = load_checkpoint(model_json)
    return save_checkpoint(loaded.model, out, CheckpointMeta(name=loaded.name,
                                                             face_colour_gate=FaceColourGate().to_dict()))


def calling_all_skin(network: SegmentationNet) -> SegmentationNet:
    """`network` (changed in place) with its score layer's bias so high that it alone decides: every pixel is skin,
    so a test can tell which of two networks made a map."""
    with torch.no_grad():
        network.merge_residual.conv.bias.fill_(50.0)
    return network


def people_copy(model_json: Path, out: Path) -> Path:
    """The same network and name saved to `out` with the face colour gate and a network for photos of people (as the
    bundled model has): the same network again, calling all skin, so that a test sees which one ran."""
    loaded = load_checkpoint(model_json)
    gate = FaceColourGate().to_dict()
    skin_everywhere = calling_all_skin(load_checkpoint(model_json).model)
    people = save_checkpoint(skin_everywhere, out.with_name(f"{out.stem}-people.json"),
                             CheckpointMeta(name=f"{loaded.name}-people", face_colour_gate=gate))
    return save_checkpoint(loaded.model, out, CheckpointMeta(
        name=loaded.name, face_colour_gate=gate, extra={PEOPLE_KEY: {"file": people.name, "min_face_share": 0.15}}))
