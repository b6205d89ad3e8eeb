"""int8 static quantisation of a model's ONNX export (ONNX Runtime), for measuring it against fp32.

torch's dynamic quantisation converts no convolutions, so the int8 route on a CPU is ONNX Runtime's static
quantisation: weights int8 per output channel, activations uint8 with ranges calibrated on the Segmenter's own
network inputs (QDQ format, min/max calibration). The issue's rule: use it only if it is faster and keeps Jaccard within 0.005 of
fp32 on the test sets. `benchmarks/int8_quantisation.py` measures both; `skinseg benchmark` times it beside fp32.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from skinseg_core.atomic import atomic_path
from skinseg_core.inference import Segmenter


def quantisation_available() -> bool:
    """Whether ONNX Runtime and its quantisation tools are installed (the frozen app leaves the tools out)."""
    try:
        return importlib.util.find_spec("onnxruntime.quantization") is not None
    except ImportError:  # onnxruntime itself is missing
        return False


def calibration_inputs(segmenter: Segmenter, rgbs: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """The segmenter's own network inputs for uint8 RGB photos (with the test-time flip, each photo and its mirror
    image), as numpy: calibration sees exactly what inference runs."""
    for rgb in rgbs:
        yield segmenter.network_inputs(rgb).cpu().numpy()


def quantise_int8(fp32_onnx: Path, calibration: Iterable[np.ndarray], out: Path) -> Path:
    """Write an int8 (QDQ) copy of `fp32_onnx` to `out` (atomically), calibrated on `calibration` inputs."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Inputs(CalibrationDataReader):
        def __init__(self) -> None:
            self._inputs = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self._inputs, None)
            return None if item is None else {"x": np.ascontiguousarray(item, dtype=np.float32)}

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="skinseg-int8-") as work, atomic_path(out) as tmp:
        prepared = Path(work) / "prepared.onnx"
        quant_pre_process(str(fp32_onnx), str(prepared))  # shape inference and graph clean-up, as ORT advises
        quantize_static(str(prepared), str(tmp), Inputs(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"CalibTensorRangeSymmetric": False})
    return out
