"""Reading photos and masks in every format SkinSeg promises, with clear errors for everything else.

All inputs are generated in tmp_path; sizes are small and odd (63 x 33) so off-by-one and orientation mistakes show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from skinseg_core import atomic, imageio
from skinseg_core.errors import ImageReadError, SkinSegError
from skinseg_core.imageio import (
    PHOTO_SUFFIXES,
    Photo,
    list_photos,
    read_mask,
    read_photo,
    register_heif,
    write_gray_png,
    write_mask_png,
)

REPO = Path(__file__).resolve().parents[2]

RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 40), (20, 40, 210), (230, 220, 30)


def quadrants(width: int = 64, height: int = 48) -> np.ndarray:
    """uint8 RGB [H, W, 3]: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    rgb = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    rgb[:h2, :w2], rgb[:h2, w2:], rgb[h2:, :w2], rgb[h2:, w2:] = RED, GREEN, BLUE, YELLOW
    return rgb


def assert_quadrants(rgb: np.ndarray, tolerance: int) -> None:
    height, width = rgb.shape[:2]
    for (y, x), colour in zip(
        [(height // 4, width // 4), (height // 4, 3 * width // 4), (3 * height // 4, width // 4),
         (3 * height // 4, 3 * width // 4)],
        [RED, GREEN, BLUE, YELLOW],
    ):
        assert np.abs(rgb[y, x].astype(int) - colour).max() <= tolerance, (y, x, rgb[y, x], colour)


def assert_read_error(path: Path, *fragments: str) -> str:
    with pytest.raises(ImageReadError) as info:
        read_photo(path)
    message = str(info.value)
    assert str(path) in message
    assert message.startswith("Could not read")  # our sentence, not a bare Pillow message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "tolerance"),
    [(".jpg", 12), (".jpeg", 12), (".png", 0), (".tif", 0), (".tiff", 0), (".bmp", 0), (".webp", 12),
     (".heic", 16), (".heif", 16)],
)
def test_round_trip_every_format(tmp_path: Path, suffix: str, tolerance: int) -> None:
    register_heif()  # Pillow needs the opener to *write* HEIC in this test
    path = tmp_path / f"photo{suffix}"
    save_args = {"quality": 95} if suffix in (".jpg", ".jpeg", ".webp", ".heic", ".heif") else {}
    Image.fromarray(quadrants()).save(path, **save_args)
    photo = read_photo(path)
    assert photo.rgb.dtype == np.uint8 and photo.rgb.shape == (48, 64, 3)
    assert photo.full_size == (64, 48) and not photo.reduced
    assert photo.width == 64 and photo.height == 48 and photo.path == path
    assert_quadrants(photo.rgb, tolerance)


def test_photo_suffixes() -> None:
    assert set(PHOTO_SUFFIXES) == {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".heic", ".heif"}
    assert all(s == s.lower() and s.startswith(".") for s in PHOTO_SUFFIXES)


def test_register_heif_is_idempotent() -> None:
    register_heif()
    register_heif()


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation(tmp_path: Path, orientation: int) -> None:
    # Stored 40 x 20: left half red, right half blue.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20], stored[:, 20:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif)

    photo = read_photo(path)
    assert photo.rgb.shape == (40, 20, 3) and photo.full_size == (20, 40)
    # 6 = rotate 90 clockwise for display, so the stored left side ends on top; 8 puts it at the bottom.
    top, bottom = (RED, BLUE) if orientation == 6 else (BLUE, RED)
    assert np.abs(photo.rgb[5, 10].astype(int) - top).max() <= 12
    assert np.abs(photo.rgb[34, 10].astype(int) - bottom).max() <= 12
    reference = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert np.array_equal(photo.rgb, reference)


def test_exif_orientation_with_reduced_decode(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated_big.jpg"
    Image.fromarray(quadrants(800, 400)).save(path, quality=95, exif=exif)
    photo = read_photo(path, min_long_side=100)
    assert photo.full_size == (400, 800)
    assert photo.rgb.shape == (100, 50, 3) and photo.reduced


def test_all_eight_orientations_match_pillow(tmp_path: Path) -> None:
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"o{orientation}.png"
        Image.fromarray(quadrants(63, 33)).save(path, exif=exif)
        reference = np.asarray(ImageOps.exif_transpose(Image.open(path)))
        assert np.array_equal(read_photo(path).rgb, reference), orientation


def test_greyscale(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((33, 63), 90, np.uint8)).save(path)
    photo = read_photo(path)
    assert photo.rgb.shape == (33, 63, 3) and np.all(photo.rgb == 90)


def test_greyscale_alpha(tmp_path: Path) -> None:
    grey_alpha = np.zeros((10, 12, 2), np.uint8)
    grey_alpha[..., 0] = 0
    grey_alpha[:5, :, 1] = 255  # top opaque black
    grey_alpha[5:, :, 1] = 0  # bottom transparent -> white
    path = tmp_path / "la.png"
    Image.fromarray(grey_alpha, mode="LA").save(path)
    rgb = read_photo(path).rgb
    assert np.all(rgb[:5] == 0) and np.all(rgb[5:] == 255)


def test_rgba_composited_over_white(tmp_path: Path) -> None:
    rgba = np.zeros((10, 30, 4), np.uint8)
    rgba[:, :10] = (255, 0, 0, 0)  # invisible red -> white
    rgba[:, 10:20] = (0, 0, 255, 255)  # opaque blue
    rgba[:, 20:] = (0, 0, 0, 128)  # half-transparent black -> mid grey
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba).save(path)
    rgb = read_photo(path).rgb
    assert np.all(rgb[:, :10] == 255)
    assert np.all(rgb[:, 10:20] == (0, 0, 255))
    assert np.all(np.abs(rgb[:, 20:].astype(int) - 127) <= 1)


def test_rgba_reduced_has_no_colour_bleed(tmp_path: Path) -> None:
    # Invisible pure red next to opaque white: a non-premultiplied shrink would tint the edge pink.
    rgba = np.zeros((40, 80, 4), np.uint8)
    rgba[:, :41] = (255, 0, 0, 0)
    rgba[:, 41:] = (255, 255, 255, 255)
    path = tmp_path / "edge.png"
    Image.fromarray(rgba).save(path)
    rgb = read_photo(path, min_long_side=20).rgb
    assert rgb.shape == (10, 20, 3)
    assert rgb.min() >= 254


def test_palette_and_palette_transparency(tmp_path: Path) -> None:
    path = tmp_path / "palette.png"
    Image.fromarray(quadrants()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(path)
    assert_quadrants(read_photo(path).rgb, 0)

    indices = np.zeros((10, 10), np.uint8)
    indices[5:] = 1
    image = Image.fromarray(indices, mode="P")
    image.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    transparent = tmp_path / "palette_transparent.png"
    image.save(transparent, transparency=0)  # index 0 (black) is see-through
    rgb = read_photo(transparent).rgb
    assert np.all(rgb[:5] == 255) and np.all(rgb[5:] == (10, 200, 30))


def test_one_bit(tmp_path: Path) -> None:
    bits = np.zeros((9, 17), bool)
    bits[:, 8:] = True
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    assert Image.open(path).mode == "1"
    rgb = read_photo(path).rgb
    assert np.all(rgb[:, :8] == 0) and np.all(rgb[:, 8:] == 255)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"cmyk{suffix}"
    Image.new("CMYK", (21, 13), (0, 255, 255, 0)).save(path)  # pure red in CMYK
    assert Image.open(path).mode == "CMYK"
    photo = read_photo(path)
    assert photo.rgb.shape == (13, 21, 3)
    assert np.abs(photo.rgb[6, 10].astype(int) - (255, 0, 0)).max() <= 8


def test_lab_tiff(tmp_path: Path) -> None:
    path = tmp_path / "lab.tif"
    Image.new("LAB", (8, 6), (128, 128, 128)).save(path)  # L=50%, a=b=0: neutral mid grey
    rgb = read_photo(path).rgb
    assert rgb.shape == (6, 8, 3)
    assert int(rgb.max()) - int(rgb.min()) <= 3 and 100 <= rgb[0, 0, 0] <= 140


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_greyscale(tmp_path: Path, suffix: str) -> None:
    values = np.zeros((11, 7), np.uint16)
    values[:, :3] = 40000
    values[:, 3:] = 65535
    path = tmp_path / f"grey16{suffix}"
    assert cv2.imwrite(str(path), values)
    rgb = read_photo(path).rgb
    assert rgb.shape == (11, 7, 3)
    assert np.all(rgb[:, :3] == round(40000 / 257)) and np.all(rgb[:, 3:] == 255)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_rgb_scaled_and_in_rgb_order(tmp_path: Path, suffix: str) -> None:
    bgr = np.zeros((9, 13, 3), np.uint16)
    bgr[..., 0], bgr[..., 1], bgr[..., 2] = 1000, 30000, 65535  # B, G, R as OpenCV stores them
    path = tmp_path / f"rgb16{suffix}"
    assert cv2.imwrite(str(path), bgr)
    rgb = read_photo(path).rgb
    assert rgb.shape == (9, 13, 3)
    expected = (round(65535 / 257), round(30000 / 257), round(1000 / 257))  # (255, 117, 4): not truncated 3
    assert np.all(rgb == expected), rgb[0, 0]


def test_16bit_rgba(tmp_path: Path) -> None:
    bgra = np.zeros((6, 8, 4), np.uint16)
    bgra[..., :3] = 50000
    bgra[:3, :, 3] = 0
    bgra[3:, :, 3] = 65535
    path = tmp_path / "rgba16.png"
    assert cv2.imwrite(str(path), bgra)
    rgb = read_photo(path).rgb
    assert np.all(rgb[:3] == 255) and np.all(rgb[3:] == round(50000 / 257))


def test_multi_frame_reads_first_frame(tmp_path: Path) -> None:
    first = Image.new("RGB", (10, 8), RED)
    second = Image.new("RGB", (10, 8), BLUE)
    for name in ("pages.tif", "frames.gif"):
        path = tmp_path / name
        first.save(path, save_all=True, append_images=[second])
        rgb = read_photo(path).rgb
        assert rgb.shape == (8, 10, 3)
        assert np.abs(rgb[4, 5].astype(int) - RED).max() <= 10, name


# ---------------------------------------------------------------------------------------------------------------
# Reduced decodes and size limits
# ---------------------------------------------------------------------------------------------------------------


def test_jpeg_min_long_side_uses_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "large.jpg"
    Image.fromarray(quadrants(800, 600)).save(path, quality=95)
    from PIL import JpegImagePlugin

    calls: list[tuple[int, int]] = []

    jpeg_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: Image.Image, mode: str | None, size: tuple[int, int] | None) -> object:
        result = jpeg_draft(self, mode, size)
        calls.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    photo = read_photo(path, min_long_side=100)
    assert calls == [(100, 75)]  # libjpeg decoded at 1/8 scale: the full photo never existed in memory
    assert photo.full_size == (800, 600) and photo.reduced
    assert photo.rgb.shape == (75, 100, 3)
    assert_quadrants(photo.rgb, 12)


def test_mpo_camera_jpeg_uses_draft_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Phones and cameras that embed a depth map or preview write MPO, which Pillow reports as format "MPO".
    from PIL import JpegImagePlugin

    path = tmp_path / "camera.jpg"
    Image.fromarray(quadrants(800, 600)).save(
        path, format="MPO", save_all=True, append_images=[Image.fromarray(quadrants(400, 300))]
    )
    assert Image.open(path).format == "MPO"
    sizes: list[tuple[int, int]] = []
    jpeg_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: Image.Image, mode: str | None, size: tuple[int, int] | None) -> object:
        result = jpeg_draft(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    photo = read_photo(path, min_long_side=100)
    assert sizes == [(100, 75)] and photo.full_size == (800, 600)
    assert_quadrants(photo.rgb, 12)


def test_rgb_is_writable_and_contiguous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # np.asarray(PIL image) is read-only; torch.from_numpy warns on that and in-place edits fail.
    monkeypatch.setattr(imageio, "_BAND_PIXELS", 1000)  # force the banded copy on a small photo
    path = tmp_path / "plain.png"
    Image.fromarray(quadrants(63, 33)).save(path)
    photo = read_photo(path)
    assert photo.rgb.flags.writeable and photo.rgb.flags.c_contiguous
    assert np.array_equal(photo.rgb, quadrants(63, 33))
    photo.rgb[0, 0] = 0


def test_concurrent_reads_restore_pillow_limit(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "shared.jpg"
    Image.fromarray(quadrants(200, 100)).save(path)
    before = Image.MAX_IMAGE_PIXELS
    with ThreadPoolExecutor(8) as pool:
        shapes = list(pool.map(lambda _: read_photo(path, min_long_side=50).rgb.shape, range(32)))
    assert set(shapes) == {(25, 50, 3)}
    assert Image.MAX_IMAGE_PIXELS == before


def test_jpeg_draft_never_goes_below_min_long_side(tmp_path: Path) -> None:
    path = tmp_path / "odd.jpg"
    Image.fromarray(quadrants(1001, 333)).save(path)
    photo = read_photo(path, min_long_side=300)  # 1/4 would give 251 < 300, so 1/2 (501) then INTER_AREA
    assert photo.rgb.shape == (100, 300, 3) and photo.full_size == (1001, 333)


def test_min_long_side_other_formats_and_no_upscale(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.fromarray(quadrants(300, 200)).save(path)
    photo = read_photo(path, min_long_side=100)
    assert photo.rgb.shape == (67, 100, 3) and photo.full_size == (300, 200) and photo.reduced
    assert_quadrants(photo.rgb, 2)
    same = read_photo(path, min_long_side=1000)
    assert same.rgb.shape == (200, 300, 3) and not same.reduced
    with pytest.raises(ValueError):
        read_photo(path, min_long_side=0)


def test_over_max_pixels(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (300, 200)).save(path)
    with pytest.raises(ImageReadError) as info:
        read_photo(path, max_pixels=50_000)
    message = str(info.value)
    assert str(path) in message
    assert "this photo has 0.06 MP (300 x 200 pixels); SkinSeg reads up to 0.05 MP" in message
    assert Image.MAX_IMAGE_PIXELS is not None  # Pillow's own protection is back in place


def test_pillow_limit_restored(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (4, 4)).save(path)
    before = Image.MAX_IMAGE_PIXELS
    read_photo(path)
    with pytest.raises(ImageReadError):
        read_photo(tmp_path / "missing.png")
    assert Image.MAX_IMAGE_PIXELS == before


def test_100_megapixel_jpeg_stays_small_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    pixels = np.zeros((8400, 12000, 3), np.uint8)
    pixels[:, :6000] = (200, 80, 40)  # BGR: left half blue-ish in RGB terms is (40, 80, 200)
    assert cv2.imwrite(str(path), pixels, [cv2.IMWRITE_JPEG_QUALITY, 50])
    del pixels
    # A fresh process, so its peak memory measures this read alone; warnings are errors so a Pillow
    # DecompressionBombWarning (100 MP > Pillow's 89 MP default) would fail the test. On Linux the peak is VmHWM,
    # which belongs to the process's own memory map: ru_maxrss carries the parent's peak over at exec (the test
    # session's, 2 GB by now), which would hide any growth.
    script = textwrap.dedent(
        f"""
        import json, re, resource, sys, warnings
        from pathlib import Path
        warnings.simplefilter("error")
        from PIL import Image
        from skinseg_core.imageio import read_photo

        def peak():
            status = Path("/proc/self/status")
            if status.exists():
                return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read_text()).group(1)) * 1024
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS

        before = peak()
        photo = read_photo({str(path)!r}, min_long_side=1024)
        after = peak()
        print(json.dumps({{"growth": after - before, "shape": photo.rgb.shape, "full": photo.full_size,
                          "left": photo.rgb[300, 100].tolist(), "right": photo.rgb[300, 900].tolist(),
                          "limit": Image.MAX_IMAGE_PIXELS}}))
        """
    )
    if sys.platform == "win32":
        pytest.skip("resource.getrusage is POSIX-only")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["full"] == [12000, 8400]
    assert report["shape"] == [717, 1024, 3]
    assert np.abs(np.array(report["left"]) - (40, 80, 200)).max() <= 10
    assert max(report["right"]) <= 10
    assert report["growth"] < 250 * 2**20, report["growth"]  # a full decode needs >= 300 MB
    assert report["limit"] == 89_478_485  # Pillow's default, restored


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------


def test_zero_byte(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert_read_error(path, "empty")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("patient 12, left forearm\n", encoding="utf-8")
    assert_read_error(path, "text file", "JPEG, PNG")


def test_pdf_file(tmp_path: Path) -> None:
    path = tmp_path / "report.jpg"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert_read_error(path, "PDF")


def test_random_bytes_with_jpg_suffix(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_read_error(path, "not an image")


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated(tmp_path: Path, suffix: str) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)  # noise: no tiny file
    whole = tmp_path / f"whole{suffix}"
    Image.fromarray(noise).save(whole)
    data = whole.read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert_read_error(path, "damaged or incomplete", "copy it again")


def test_truncated_16bit_png(tmp_path: Path) -> None:
    values = np.random.default_rng(2).integers(0, 65535, (60, 80, 3), dtype=np.uint16)
    whole = tmp_path / "whole16.png"
    cv2.imwrite(str(whole), values)
    data = whole.read_bytes()
    path = tmp_path / "cut16.png"
    path.write_bytes(data[: len(data) // 2])
    assert_read_error(path, "damaged or incomplete")


def test_missing_path(tmp_path: Path) -> None:
    assert_read_error(tmp_path / "nowhere.jpg", "does not exist")


def test_folder(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.jpg"
    folder.mkdir()
    assert_read_error(folder, "folder")


def test_camera_raw_refused(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.CR2"
    Image.new("RGB", (8, 8)).save(path, format="TIFF")  # RAW files are TIFF-like: must not be read as one
    assert_read_error(path, "RAW")


def test_original_is_never_modified(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "original.jpg"
    Image.fromarray(quadrants(200, 100)).save(path, exif=exif)
    old_time = 1_000_000_000_000_000_000
    os.utime(path, ns=(old_time, old_time))
    before = path.read_bytes()
    read_photo(path)
    read_photo(path, min_long_side=30)
    read_mask(path)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == old_time


# ---------------------------------------------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------------------------------------------


def disc(width: int = 63, height: int = 33) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    return (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 3) ** 2


@pytest.mark.parametrize("kind", ["L255", "L1", "bits", "rgb", "rgba", "grey16", "grey16_255", "rgb16"])
def test_read_mask_modes(tmp_path: Path, kind: str) -> None:
    mask = disc()
    path = tmp_path / f"{kind}.png"
    if kind == "L255":
        Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    elif kind == "L1":
        Image.fromarray(mask.astype(np.uint8)).save(path)
    elif kind == "bits":
        Image.fromarray(mask).save(path)
    elif kind == "rgb":
        Image.fromarray(np.repeat(mask[..., None].astype(np.uint8) * 255, 3, axis=2)).save(path)
    elif kind == "rgba":
        rgba = np.repeat(mask[..., None].astype(np.uint8) * 255, 4, axis=2)
        rgba[..., 3] = 255
        Image.fromarray(rgba).save(path)
    elif kind == "grey16":
        cv2.imwrite(str(path), mask.astype(np.uint16) * 65535)
    elif kind == "grey16_255":  # 16-bit file holding 8-bit values, as some tools write
        cv2.imwrite(str(path), mask.astype(np.uint16) * 255)
    elif kind == "rgb16":
        cv2.imwrite(str(path), np.repeat(mask[..., None].astype(np.uint16) * 65535, 3, axis=2))
    result = read_mask(path)
    assert result.dtype == bool and result.shape == mask.shape
    assert np.array_equal(result, mask)


def test_read_mask_thresholds_at_half() -> None:
    assert list(imageio._threshold(np.array([0, 127, 128, 255], np.uint8))) == [False, False, True, True]
    assert list(imageio._threshold(np.array([0, 1], np.uint8))) == [False, True]
    assert list(imageio._threshold(np.array([0, 32767, 32768], np.uint16))) == [False, False, True]


def test_read_mask_coloured_palette_uses_indices(tmp_path: Path) -> None:
    # labelme-style label PNG: index 1 drawn in dark red, whose luminance (38) is below any grey threshold.
    mask = disc()
    image = Image.fromarray(mask.astype(np.uint8), mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
    path = tmp_path / "label.png"
    image.save(path)
    assert np.array_equal(read_mask(path), mask)


def test_read_mask_grey_palette_uses_values(tmp_path: Path) -> None:
    mask = disc()
    image = Image.fromarray(mask.astype(np.uint8) * 2, mode="P")  # index 2 = white, 0 = black, 1 unused grey
    image.putpalette([0, 0, 0, 100, 100, 100, 255, 255, 255] + [0] * 759)
    path = tmp_path / "grey_palette.png"
    image.save(path)
    assert np.array_equal(read_mask(path), mask)


def test_read_mask_exif_orientation(tmp_path: Path) -> None:
    mask = np.zeros((10, 20), bool)
    mask[:, :5] = True
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated_mask.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(path, exif=exif)
    result = read_mask(path)
    assert result.shape == (20, 10)
    assert np.array_equal(result, np.rot90(mask, -1))


def test_read_mask_nearest_resize(tmp_path: Path) -> None:
    mask = disc()
    path = tmp_path / "mask.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    resized = read_mask(path, size=(126, 50))
    assert resized.dtype == bool and resized.shape == (50, 126)
    # Exactly what Pillow's NEAREST gives: pixel-centre sampling, no interpolated values.
    reference = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((126, 50), Image.Resampling.NEAREST))
    assert set(np.unique(reference)) <= {0, 255}
    assert np.array_equal(resized, reference == 255)
    assert read_mask(path, size=(63, 33)).shape == (33, 63)


def test_read_mask_errors(tmp_path: Path) -> None:
    path = tmp_path / "mask.png"
    path.write_text("not a mask")
    with pytest.raises(ImageReadError, match="text file"):
        read_mask(path)
    with pytest.raises(ImageReadError, match="does not exist"):
        read_mask(tmp_path / "nothing.png")


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["bool", "01", "0255"])
def test_write_mask_png_round_trip(tmp_path: Path, variant: str) -> None:
    mask = disc()
    data = {"bool": mask, "01": mask.astype(np.uint8), "0255": mask.astype(np.uint8) * 255}[variant]
    path = tmp_path / "out.png"
    write_mask_png(path, data)
    with Image.open(path) as image:
        assert image.mode == "L" and image.format == "PNG"
        assert not image.info  # no metadata chunks
        values = np.asarray(image)
    assert set(np.unique(values)) == {0, 255}
    assert np.array_equal(read_mask(path), mask)
    assert [name for name in os.listdir(tmp_path) if name != "out.png"] == []


def test_write_mask_png_rejects_graded_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="write_gray_png"):
        write_mask_png(tmp_path / "bad.png", np.array([[0, 128], [255, 0]], np.uint8))
    with pytest.raises(ValueError):
        write_mask_png(tmp_path / "bad.png", np.zeros((2, 2, 3), bool))
    assert not (tmp_path / "bad.png").exists()


def test_write_mask_png_disk_full_keeps_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mask.png"
    write_mask_png(path, disc())
    before = path.read_bytes()

    def no_space(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_space)
    with pytest.raises(SkinSegError, match="the disk is full"):
        write_mask_png(path, ~disc())
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["mask.png"]


def test_write_gray_png(tmp_path: Path) -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (3, 1))
    path = tmp_path / "probability.png"
    write_gray_png(path, ramp)
    with Image.open(path) as image:
        assert image.mode == "L"
        assert np.array_equal(np.asarray(image), ramp)
    with pytest.raises(TypeError):
        write_gray_png(path, ramp.astype(np.float32))
    with pytest.raises(ValueError):
        write_gray_png(path, np.zeros((2, 2, 3), np.uint8))


# ---------------------------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------------------------


def test_list_photos(tmp_path: Path) -> None:
    for name in ["b.JPG", "a.png", "C.tiff", "d.heic", "e.WebP", "f.bmp", "g.jpeg", "h.tif", "i.heif",
                 "notes.txt", "mask.pdf", ".hidden.jpg", "._b.JPG", ".x.png.1234.skinseg-tmp"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "folder.jpg").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.jpg").write_bytes(b"x")
    names = [path.name for path in list_photos(tmp_path)]
    assert names == ["a.png", "b.JPG", "C.tiff", "d.heic", "e.WebP", "f.bmp", "g.jpeg", "h.tif", "i.heif"]
    assert all(path.parent == tmp_path for path in list_photos(str(tmp_path)))


def test_list_photos_empty_and_missing(tmp_path: Path) -> None:
    assert list_photos(tmp_path) == []
    with pytest.raises(SkinSegError, match="does not exist"):
        list_photos(tmp_path / "missing")


def test_photo_dataclass() -> None:
    photo = Photo(rgb=np.zeros((5, 8, 3), np.uint8), full_size=(16, 10), path=None)
    assert (photo.width, photo.height, photo.reduced) == (8, 5, True)
    with pytest.raises(AttributeError):
        photo.path = Path("x")  # type: ignore[misc]
