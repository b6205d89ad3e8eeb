"""Model files for tests that need one with a particular setting."""

from __future__ import annotations

from pathlib import Path

from skinseg_core.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from skinseg_core.face_colour import FaceColourGate
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
