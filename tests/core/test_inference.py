"""Inference: a float32 map at the photo's own size for every readable photo, clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.errors import CheckpointError, DeviceError, ImageReadError
from skinseg_core.inference import Segmenter, resolve_model_path
from tests.model_files import flipping_copy


def _photo(path, size=(57, 33), mode="RGB", **save):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(array).convert(mode).save(path, **save)
    return path


@pytest.mark.parametrize("size", [(57, 33), (33, 57), (200, 150), (31, 31)])
def test_probability_map_has_the_photos_size(tmp_path, tiny_checkpoint, size):
    segmenter = Segmenter(tiny_checkpoint, device="cpu")
    prob = segmenter.probabilities(_photo(tmp_path / "p.png", size))
    assert prob.shape == (size[1], size[0])
    assert prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0


def test_exif_rotated_photo_gives_a_map_in_display_orientation(tmp_path, tiny_checkpoint):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display: 80x40 stored, 40x80 shown
    path = _photo(tmp_path / "rot.jpg", (80, 40), exif=exif.tobytes())
    prob = Segmenter(tiny_checkpoint, device="cpu").probabilities(path)
    assert prob.shape == (80, 40)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "I;16"])
def test_unusual_modes_are_segmented(tmp_path, tiny_checkpoint, mode):
    suffix = ".tif" if mode in ("CMYK", "I;16") else ".png"
    path = tmp_path / f"photo{suffix}"
    if mode == "I;16":
        Image.fromarray((np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50)).save(path)
    else:
        _photo(path, (40, 30), mode)
    assert Segmenter(tiny_checkpoint, device="cpu").probabilities(path).shape == (30, 40)


@pytest.mark.parametrize(
    "content, match",
    [(b"", "empty|0 bytes|zero"), (b"hello, not a photo", "not .*image|not a photo|cannot|unrecognised|unsupported")],
)
def test_bad_files_raise_image_read_errors(tmp_path, tiny_checkpoint, content, match):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=f"(?i){match}") as error:
        Segmenter(tiny_checkpoint, device="cpu").probabilities(path)
    assert "bad.jpg" in str(error.value)


def test_truncated_jpeg(tmp_path, tiny_checkpoint):
    path = _photo(tmp_path / "cut.jpg", (300, 200), quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        Segmenter(tiny_checkpoint, device="cpu").probabilities(path)


def test_absent_devices_are_clear(tiny_checkpoint):
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA was requested"):
            Segmenter(tiny_checkpoint, device="cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        with pytest.raises(DeviceError, match="MPS"):
            Segmenter(tiny_checkpoint, device="mps")


def test_flip_averaging_stays_a_probability_map(tmp_path, tiny_checkpoint):
    path = _photo(tmp_path / "p.png", (64, 48))
    prob = Segmenter(tiny_checkpoint, device="cpu", tta=True).probabilities(path)
    assert prob.shape == (48, 64) and 0.0 <= prob.min() <= prob.max() <= 1.0


def test_a_model_file_that_asks_for_the_flip_gets_it_by_default(tmp_path, tiny_checkpoint):
    path = _photo(tmp_path / "p.png", (64, 48))
    flipping = flipping_copy(tiny_checkpoint, tmp_path / "flip.json")
    assert load_checkpoint(flipping).test_time_flip and not load_checkpoint(tiny_checkpoint).test_time_flip
    default = Segmenter(flipping, device="cpu")
    assert default.tta and not Segmenter(tiny_checkpoint, device="cpu").tta
    assert "flip" in default.device_description  # the app's status bar and `predict` say so
    by_default = default.probabilities(path)
    assert np.array_equal(by_default, Segmenter(tiny_checkpoint, device="cpu", tta=True).probabilities(path))
    plain = Segmenter(flipping, device="cpu", tta=False).probabilities(path)
    assert np.abs(by_default - plain).max() > 1e-4, "asking for no flip on such a model is honoured"


def test_no_model_anywhere_is_a_clear_message(monkeypatch):
    monkeypatch.delenv("SKINSEG_MODEL", raising=False)
    monkeypatch.setattr("skinseg_core.inference.default_model_path", lambda: None)
    with pytest.raises(CheckpointError, match="--model"):
        resolve_model_path(None)


def test_a_100_megapixel_jpeg_becomes_a_full_size_mask_in_bounded_memory(tmp_path, tiny_checkpoint):
    import subprocess
    import sys
    import warnings

    import cv2

    photo = tmp_path / "huge.jpg"
    image = np.zeros((8400, 12000, 3), np.uint8)
    image[:, :6000] = (120, 160, 210)
    cv2.imwrite(str(photo), image, [cv2.IMWRITE_JPEG_QUALITY, 50])
    del image
    # The child's own peak: VmHWM belongs to its memory map, which exec made new. ru_maxrss would not do: Linux
    # carries the parent's peak over into it at exec, and this test's parent is the whole test session (2 GB by now).
    code = (
        "import re\n"
        "from pathlib import Path\n"
        "from skinseg_core.cli import main\n"
        f"rc = main(['predict', {str(photo)!r}, '--out', {str(tmp_path / 'out')!r}, '--model', "
        f"{str(tiny_checkpoint)!r}, '-q', '--device', 'cpu'])\n"
        "status = Path('/proc/self/status').read_text()\n"
        "print(rc, int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rc, peak_mb = map(int, done.stdout.split())
    assert rc == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own output, read only for its size
        with Image.open(tmp_path / "out" / "huge.png") as mask:
            assert mask.size == (12000, 8400)
    # A full decode alone would be 300 MB and a float64 map 800 MB; the reduced decode keeps the whole run small.
    assert peak_mb < 2000, peak_mb


@pytest.mark.parametrize("size", [(57, 33), (120, 90)])
def test_onnx_backend_matches_torch(tmp_path, tiny_checkpoint, size):
    path = _photo(tmp_path / "p.png", size)
    by_torch = Segmenter(tiny_checkpoint, device="cpu", backend="torch").probabilities(path)
    onnx = Segmenter(tiny_checkpoint, device="cpu", backend="onnx")
    assert onnx.backend == "onnx" and "ONNX" in onnx.device_description
    assert np.abs(onnx.probabilities(path) - by_torch).max() < 1e-4
    flipped = Segmenter(tiny_checkpoint, device="cpu", backend="onnx", tta=True).probabilities(path)
    flipped_torch = Segmenter(tiny_checkpoint, device="cpu", backend="torch", tta=True).probabilities(path)
    assert np.abs(flipped - flipped_torch).max() < 1e-4


def test_onnx_export_is_cached_per_weights(tiny_checkpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("SKINSEG_CACHE_DIR", str(tmp_path / "cache"))
    Segmenter(tiny_checkpoint, device="cpu", backend="onnx")
    exports = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(exports) == 1
    stamp = exports[0].stat().st_mtime_ns
    Segmenter(tiny_checkpoint, device="cpu", backend="onnx")
    assert exports[0].stat().st_mtime_ns == stamp  # reused, not exported again


def test_onnx_backend_when_the_fc_grid_does_not_divide_the_bottleneck(tmp_path):
    from skinseg_core.checkpoint import save_checkpoint

    from .conftest import tiny_model

    model_path = save_checkpoint(tiny_model(fc_grid=3, input_size=40), tmp_path / "odd.json")  # 10x10 -> 3x3
    path = _photo(tmp_path / "p.png", (70, 50))
    by_torch = Segmenter(model_path, device="cpu", backend="torch").probabilities(path)
    by_onnx = Segmenter(model_path, device="cpu", backend="onnx").probabilities(path)
    assert np.abs(by_onnx - by_torch).max() < 1e-4


def test_the_photo_of_a_person_benchmark_enlarges_to_12_mp_keeping_the_face_and_names_a_missing_photo(tmp_path, capsys):
    import runpy
    import sys

    import cv2

    script = runpy.run_path(str(Path(__file__).parents[2] / "benchmarks" / "photo_of_a_person.py"))
    portrait = np.zeros((500, 300, 3), np.uint8)  # taller than wide: a 4:3 crop would cut its top off
    written = cv2.imread(str(script["enlarged"](portrait, tmp_path / "big.jpg")))
    height, width = written.shape[:2]
    assert abs(height * width - 12e6) < 0.01 * 12e6 and abs(height / width - 500 / 300) < 0.01
    argv = sys.argv
    sys.argv = ["photo_of_a_person.py", "--data-root", str(tmp_path)]
    try:
        with pytest.raises(SystemExit):
            script["main"]()
    finally:
        sys.argv = argv
    assert "--data-root pointing at the shared data" in capsys.readouterr().err
