"""Photo in, float32 skin probability map out, at the photo's own resolution (no threshold here).

The network runs at its input size S (the whole photo squashed to a square, as in training). When the model file
names a guided filter, its map is refined with the photo's colours at up to 2S on the long side (refine.py); when it
names a face colour gate, colours far from the skin in the photo's faces are damped (face_colour.py); that compact
map is resized to the photo's full size. Only as many pixels as these steps need are decoded (JPEG draft
mode), so a 100 MP photo costs little more than a small one until the full-size map is made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from skinseg_core.checkpoint import LoadedModel, load_checkpoint
from skinseg_core.devices import describe_device, resolve_device
from skinseg_core.errors import CheckpointError, DeviceError
from skinseg_core.face_colour import FaceColourGate, gate_map
from skinseg_core.faces import detect_large_profiles
from skinseg_core.imageio import Photo, read_photo
from skinseg_core.models import scores_to_probabilities
from skinseg_core.onnx_backend import OnnxRunner, cached_export, onnxruntime_available
from skinseg_core.paths import default_model_path
from skinseg_core.preprocess import model_input
from skinseg_core.refine import GuidedFilter, refine_map
from skinseg_core.transforms import resize_for_network

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx")
# Which of a model's networks runs on a photo: "auto" chooses by the faces found (the network for photos of people
# where a large face is found, docs/adr/0028, 0035; the first network elsewhere); "clinical" always runs the first
# network, "people" always the network for photos of people. No cue found tells a photo of an arm in a room from a wide
# clinical shot (docs/adr/0034, 0036), and a close-up of a lesion on a face goes to the network for people, which
# calls less of such lesions skin; the user, who knows what the photo shows, can choose.
NETWORKS = ("auto", "clinical", "people")


def resolve_model_path(model: str | Path | None) -> Path:
    """The model file to use: the one given, else the default (bundled or $SKINSEG_MODEL)."""
    if model is not None:
        return Path(model)
    default = default_model_path()
    if default is None:
        raise CheckpointError(
            "No model given and no bundled model is installed (models/skinseg-bundled.json). Pass --model FILE "
            "(a .json model config with its .safetensors beside it), or train one with `skinseg train`."
        )
    return default


@dataclass
class Prediction:
    probabilities: np.ndarray  # float32 [H, W] in [0, 1] at the photo's full size (display orientation)
    photo: Photo

    def mask(self, threshold: float = 0.5) -> np.ndarray:
        return self.probabilities >= threshold


# How the status bar names a network the user chose instead of the faces found (NETWORKS).
NETWORK_LABELS = {"clinical": "close-up network", "people": "network for people"}


def describe_run(device: torch.device, flip: bool, refined: bool, backend: str | None = None,
                 face_gate: bool = False, network: str = "auto") -> str:
    """How photos are segmented, for status bars and logs, e.g. 'CPU · 2 threads · ONNX Runtime · flip averaged ·
    edges refined · face colour'. backend None: not known yet (it is chosen when a Segmenter loads the model).
    network: NETWORKS; a network chosen by the user, not by the faces found, is named."""
    parts = [describe_device(device)]
    if backend == "onnx":
        parts.append("ONNX Runtime")
    if flip:
        parts.append("flip averaged")
    if refined:
        parts.append("edges refined")
    if face_gate:
        parts.append("face colour")
    if network in NETWORK_LABELS:
        parts.append(NETWORK_LABELS[network])
    return " · ".join(parts)


class Segmenter:
    """A loaded model on a device, ready to turn photos into probability maps. Not thread-safe; one per worker."""

    def __init__(self, model: LoadedModel | str | Path | None = None, device: str = "auto", tta: bool | None = None,
                 backend: str = "auto", refine: bool | GuidedFilter | None = None,
                 onnx_file: Path | None = None, face_gate: bool | FaceColourGate | None = None,
                 network: str = "auto") -> None:
        """tta: average in a horizontally flipped pass; None (default) follows the model file's `test_time_flip`.
        backend: "auto" (ONNX Runtime on the CPU when installed, else torch), "torch" or "onnx".
        refine: the guided filter (refine.py); None (default) follows the model file's `guided_filter`, True uses the
        file's or else the default settings, False turns it off, a GuidedFilter uses those settings.
        face_gate: the face colour gate (face_colour.py), chosen as `refine` is.
        onnx_file: with the ONNX backend, run this export of the model instead of its cached fp32 one (an int8 copy
        from quantise.py, which benchmarks/int8_quantisation.py scores against fp32).
        network: one of NETWORKS; "people" with a model that has no network for photos of people runs its only one."""
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        self.network = network
        self.loaded = model if isinstance(model, LoadedModel) else load_checkpoint(resolve_model_path(model))
        self.device = resolve_device(device)
        self.tta = self.loaded.test_time_flip if tta is None else tta
        self.guided_filter: GuidedFilter | None = (
            refine if isinstance(refine, GuidedFilter)
            else None if refine is False
            else self.loaded.guided_filter or (GuidedFilter() if refine else None)
        )
        self.face_gate: FaceColourGate | None = (
            face_gate if isinstance(face_gate, FaceColourGate)
            else None if face_gate is False
            else self.loaded.face_colour_gate or (FaceColourGate() if face_gate else None)
        )
        self.model = self.loaded.model.to(self.device).eval()
        if self.device.type in ("cpu", "cuda"):
            self.model.to(memory_format=torch.channels_last)
        self.input_size = self.loaded.input_size
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "auto":
            backend = "onnx" if self.device.type == "cpu" and onnxruntime_available() else "torch"
        if backend == "onnx" and self.device.type != "cpu":
            raise DeviceError("The ONNX backend runs on the CPU only; use --device cpu or the torch backend.")
        self.backend = backend
        if onnx_file is not None and backend != "onnx":
            raise ValueError("onnx_file needs the ONNX backend")
        self._onnx = OnnxRunner(onnx_file or cached_export(self.loaded)) if backend == "onnx" else None
        # The network for photos of people, if the model file names one: it is chosen by the first face search, so
        # it runs only with the face colour gate (docs/adr/0028), or where the caller asks for it. With `onnx_file` it
        # stays at fp32.
        people = self.loaded.people if self.face_gate is not None or network == "people" else None
        self.people_model = people.model.to(self.device).eval() if people is not None else None
        if self.people_model is not None and self.device.type in ("cpu", "cuda"):
            self.people_model.to(memory_format=torch.channels_last)
        self._people_onnx = OnnxRunner(cached_export(people)) if people is not None and backend == "onnx" else None

    @property
    def device_description(self) -> str:
        # A model with one network runs it whatever was chosen.
        return describe_run(self.device, self.tta, self.guided_filter is not None, self.backend,
                            self.face_gate is not None, self.network if self.loaded.people is not None else "auto")

    @property
    def refine_long_side(self) -> int:
        """The guided filter's working size (long side): twice the network's input, as much as its map can use."""
        return 2 * self.input_size

    @property
    def read_long_side(self) -> int:
        """How much of a photo `read` decodes (long side): what the guided filter and the face colour gate use."""
        return max(self.refine_long_side, self.face_gate.read_long_side if self.face_gate is not None else 0)

    def read(self, path: str | Path) -> Photo:
        """Decode only what the network, the guided filter and the face colour gate need (`read_long_side`)."""
        return read_photo(path, min_long_side=self.read_long_side)

    @torch.inference_mode()
    def network_inputs(self, rgb: np.ndarray) -> torch.Tensor:
        """uint8 [H, W, 3] -> the batch the network runs on, on its device: [1, C, S, S], and with the test-time flip
        [2, C, S, S], the second its mirror image."""
        square = resize_for_network(rgb, self.input_size)
        batch = torch.from_numpy(square).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
        batch = batch.to(self.device)
        if self.device.type in ("cpu", "cuda"):
            batch = batch.contiguous(memory_format=torch.channels_last)
        inputs = model_input(self.model, batch)
        if self.tta:
            # Horizontal flip averaging: skin is left-right symmetric in meaning, so this only removes noise.
            inputs = torch.cat([inputs, torch.flip(inputs, dims=[3])])
        return inputs

    def profile_faces(self, rgb: np.ndarray, first: list) -> list:
        """Where the first face search found no face in `rgb` (`first` is empty) and the model has a network for
        photos of people: faces seen from the side at least `people_min_face_share` of the photo's width
        (docs/adr/0035). Otherwise none."""
        if first or self.people_model is None:
            return []
        return detect_large_profiles(rgb, self.loaded.people_min_face_share)

    def is_people_photo(self, rgb: np.ndarray, first: list, profiles: list | None = None) -> bool:
        """Whether `rgb` goes to the network for photos of people when the network is chosen by the faces found
        (`network` "auto"): the model has one and the first face search found
        a face at least `people_min_face_share` of the photo's width (a portrait or a few people, not a crowd), or,
        where it found no face, a face seen from the side as large (`profiles`: what `profile_faces` found, if it
        already ran)."""
        if self.people_model is None:
            return False
        if not first:
            return bool(self.profile_faces(rgb, first) if profiles is None else profiles)
        return max(box[2] for box in first) >= self.loaded.people_min_face_share * rgb.shape[1]

    @torch.inference_mode()
    def network_probabilities(self, rgb: np.ndarray, people: bool = False) -> np.ndarray:
        """uint8 [H, W, 3] -> float32 [S, S] probabilities at the network's input size S; `people`: from the network
        for photos of people (`is_people_photo`) instead of the model's first network."""
        if people and self.people_model is None:
            raise ValueError("this model has no network for photos of people")
        prob = scores_to_probabilities(self._scores(self.network_inputs(rgb), people)).float()
        if self.tta:
            prob = (prob[0:1] + torch.flip(prob[1:2], dims=[3])) / 2
        return prob[0, 0].cpu().numpy()

    def _scores(self, inputs: torch.Tensor, people: bool = False) -> torch.Tensor:
        onnx = self._people_onnx if people else self._onnx
        if onnx is not None:
            return torch.from_numpy(onnx(inputs.contiguous().numpy()))
        return (self.people_model if people else self.model)(inputs)

    def compact_probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 [H, W, 3] -> float32 map that `predict_photo` resizes to the full size: the network's S x S map, or
        its refinement with the photo at up to 2S on the long side (the photo's aspect ratio); then the face colour
        gate, if any (with the gate, a photo with a face and a colour cast is re-balanced first)."""
        first, large_face = None, False
        if self.face_gate is not None:
            # The first face search needs no map: where it finds a face, a colour cast is undone before the network
            # sees the photo (colour_balance.py), and a photo of people with a large enough face goes to the network
            # for such photos, if the model has one; a close-up has no face and is left as it is. A large face seen
            # from the side counts for both, not for the gate below, whose ellipse, hair step and colour sample were
            # measured on frontal faces (docs/adr/0035).
            first = self.face_gate.first_faces(rgb)
            profiles = self.profile_faces(rgb, first)
            rgb = self.face_gate.balanced(rgb, first or profiles)
            # Whichever network the caller chose, a photo with a large face is not searched again for small faces.
            large_face = self.is_people_photo(rgb, first, profiles)
        people = self.people_model is not None and (self.network == "people" or
                                                    (self.network == "auto" and large_face))
        compact = self.network_probabilities(rgb, people)
        if self.guided_filter is not None:
            compact = refine_map(rgb, compact, self.guided_filter, self.refine_long_side)
        if self.face_gate is not None:
            # A photo of people (a face at least people_min_face_share wide) is not searched again for faces too
            # small for the first search: on 61 such photos read at 800 px it found none, and it took up to 128 ms
            # (docs/adr/0032). Close-ups, group photos and crowds are.
            faces = first if large_face else self.face_gate.faces(rgb, compact, first)
            compact = gate_map(rgb, compact, faces, self.face_gate)
        return compact

    def predict_photo(self, photo: Photo) -> Prediction:
        compact = self.compact_probabilities(photo.rgb)
        width, height = photo.full_size
        full = cv2.resize(compact, (width, height), interpolation=cv2.INTER_LINEAR)
        return Prediction(np.clip(full, 0.0, 1.0, out=full), photo)

    def predict(self, path: str | Path) -> Prediction:
        return self.predict_photo(self.read(path))

    def probabilities(self, path: str | Path) -> np.ndarray:
        """float32 [H, W] skin probabilities at the photo's own resolution."""
        return self.predict(path).probabilities
