"""Reading photos and masks, writing masks: the one place where files become numpy arrays.

Photos come from many cameras and programs, so reading is defensive: EXIF orientation is applied, every pixel
format (greyscale, palette, CMYK, 16-bit, with alpha) becomes 8-bit RGB, and anything that cannot be read becomes an
`ImageReadError` whose message names the file and says what to do. Large photos are decoded at reduced size where the
format allows (JPEG DCT scaling) and are shrunk as early as possible otherwise, so a 100 MP photo does not need
gigabytes of memory. Files are only ever opened for reading; everything SkinSeg writes goes through `atomic`.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, JpegImagePlugin, UnidentifiedImageError

from skinseg_core.atomic import atomic_write_bytes
from skinseg_core.errors import ImageReadError, SkinSegError

__all__ = [
    "PHOTO_SUFFIXES",
    "Photo",
    "list_photos",
    "read_mask",
    "read_photo",
    "register_heif",
    "write_gray_png",
    "write_mask_png",
]

log = logging.getLogger(__name__)

PHOTO_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".heic", ".heif")

# Camera RAW files are TIFF-like, and Pillow may "read" one by returning its tiny embedded preview: refuse them up
# front with advice instead of silently segmenting a thumbnail.
_RAW_SUFFIXES = frozenset(
    {".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".orf", ".rw2", ".raf", ".pef", ".srw",
     ".x3f", ".3fr", ".iiq", ".rwl", ".kdc", ".mrw"}
)

# What Pillow and pillow-heif raise for damaged data; all of them mean "this file is broken", not "SkinSeg is".
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, IndexError, struct.error, zlib.error)

_EXIF_ORIENTATION = 0x0112
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I;16S", "I", "F"})
_PNG_COMPRESSION = 3  # masks compress well even at low levels; higher levels cost seconds on 100 MP masks

_SUPPORTED = "SkinSeg reads JPEG, PNG, TIFF, BMP, WebP and HEIC photos"


# --------------------------------------------------------------------------------------------------------------
# HEIC support and Pillow's global decompression-bomb limit
# --------------------------------------------------------------------------------------------------------------

_heif_lock = threading.Lock()
_heif_registered = False


def register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (iPhone photos) through pillow-heif. Safe to call any number of times."""
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return
        try:
            import pillow_heif
        except ImportError:  # an incomplete install: every other format still works
            log.warning("pillow-heif is not installed; HEIC photos cannot be read")
        else:
            pillow_heif.register_heif_opener()
        _heif_registered = True


_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: int | None = None


@contextmanager
def _pillow_limit_lifted() -> Iterator[None]:
    """Switch off Pillow's decompression-bomb check while SkinSeg decodes, then restore the caller's setting.

    SkinSeg checks the size from the header itself (with a message a user understands) before any pixel is decoded,
    so Pillow's own warning/error would only get in the way of photos between 89 MP and `max_pixels`. The setting
    is process-wide, so reads on several threads share one reference-counted lift and the last one restores it.
    """
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                Image.MAX_IMAGE_PIXELS = _limit_saved


# --------------------------------------------------------------------------------------------------------------
# Opening files with clear errors
# --------------------------------------------------------------------------------------------------------------


def _not_an_image_explanation(path: Path) -> str:
    """What a file Pillow cannot identify probably is, and what to do, so the message says more than 'not an
    image'."""
    convert = f"{_SUPPORTED}; convert or export it to one of these."
    try:
        with open(path, "rb") as file:
            head = file.read(512)
    except OSError:
        return f"this file is not an image. {convert}"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        # Pillow cannot open, for example, 32-bit floating-point colour TIFFs.
        return "this TIFF uses a pixel format SkinSeg cannot read. Re-save it as an 8- or 16-bit RGB TIFF or a JPEG."
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return "the file is damaged (its header cannot be read). Copy it again from the original."
    kinds = {b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive or Office document"}
    for magic, kind in kinds.items():
        if head.startswith(magic):
            return f"this file is {kind}, not an image. {convert}"
    # Ignoring undecodable bytes tolerates a multi-byte character cut at byte 512; binary data loses far more.
    text = head.decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) >= len(head) - 3 and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return f"this file is a text file, not an image. {convert}"
    return f"this file is not an image, or is in an image format SkinSeg cannot read. {convert}"


def _check_file(path: Path, what: str) -> None:
    """Reject what we can tell without decoding: missing, a folder, empty, camera RAW."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageReadError(
            f"Could not read {path}: the {what} does not exist. Check the path, and that the drive or network share "
            "is connected."
        ) from None
    except OSError as exc:
        raise ImageReadError(
            f"Could not read {path}: {exc.strerror or exc}. Check that the file exists and that you may open it."
        ) from exc
    if path.is_dir():
        raise ImageReadError(f"Could not read {path}: this is a folder, not a {what}. Choose an image file instead.")
    if info.st_size == 0:
        raise ImageReadError(
            f"Could not read {path}: the file is empty (0 bytes). It was probably not copied or saved completely; "
            "copy it again from the original."
        )
    if path.suffix.lower() in _RAW_SUFFIXES:
        raise ImageReadError(
            f"Could not read {path}: camera RAW files are not supported. Export the photo as JPEG or TIFF from your "
            f"camera software first. {_SUPPORTED}."
        )


def _damaged(path: Path, exc: BaseException) -> ImageReadError:
    detail = str(exc) or type(exc).__name__
    return ImageReadError(
        f"Could not read {path}: the file is damaged or incomplete ({detail}). It may not have finished copying or "
        "downloading; copy it again from the original."
    )


def _megapixels(pixels: float) -> str:
    mp = pixels / 1e6
    return f"{mp:.0f} MP" if mp >= 10 else f"{mp:.2g} MP"


def _too_large(path: Path, size: tuple[int, int] | None, max_pixels: int) -> ImageReadError:
    limit = _megapixels(max_pixels)
    if size is None:
        return ImageReadError(
            f"Could not read {path}: this image is far larger than the {limit} SkinSeg reads. Reduce its size in an "
            "image editor and try again."
        )
    width, height = size
    return ImageReadError(
        f"Could not read {path}: this photo has {_megapixels(width * height)} ({width} x {height} pixels); SkinSeg "
        f"reads up to {limit}. Reduce its size in an image editor (half the width and height is plenty) and try again."
    )


def _out_of_memory(path: Path, size: tuple[int, int]) -> ImageReadError:
    width, height = size
    return ImageReadError(
        f"Could not read {path}: there is not enough memory to decode this {_megapixels(width * height)} image. "
        "Close other programs, or reduce the photo's size in an image editor, and try again."
    )


@contextmanager
def _open_image(path: Path, max_pixels: int, what: str) -> Iterator[Image.Image]:
    """Open `path` with Pillow (header only), after checking the file and the pixel count."""
    _check_file(path, what)
    register_heif()
    with _pillow_limit_lifted():
        try:
            image = Image.open(path)  # read-only: Pillow opens "rb"
        except UnidentifiedImageError:
            raise ImageReadError(f"Could not read {path}: {_not_an_image_explanation(path)}") from None
        except Image.DecompressionBombError as exc:  # defensive: the limit is lifted, but plugins may check too
            raise _too_large(path, None, max_pixels) from exc
        except PermissionError as exc:
            raise ImageReadError(
                f"Could not read {path}: permission denied. Check that you may open this file, or copy it to a "
                "folder of your own."
            ) from exc
        except _DECODE_ERRORS as exc:
            raise _damaged(path, exc) from exc
        with image:
            width, height = image.size
            if width <= 0 or height <= 0:
                raise _damaged(path, ValueError(f"image size {width} x {height}"))
            if width * height > max_pixels:
                raise _too_large(path, (width, height), max_pixels)
            yield image


def _load(image: Image.Image, path: Path) -> None:
    """Decode the pixels, turning every failure into an ImageReadError."""
    try:
        image.load()
    except MemoryError as exc:
        raise _out_of_memory(path, image.size) from exc
    except Image.DecompressionBombError as exc:
        raise _too_large(path, image.size, image.size[0] * image.size[1]) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged(path, exc) from exc


# --------------------------------------------------------------------------------------------------------------
# Pixel helpers
# --------------------------------------------------------------------------------------------------------------


def _exif_orientation(image: Image.Image, path: Path, *, allow_decode: bool = True) -> int:
    """EXIF orientation 1..8 (1 when absent or unreadable: a broken EXIF block must not make a photo unreadable).

    pillow-heif applies HEIC rotation while decoding and resets this tag to 1, so HEIC photos are not rotated twice.
    allow_decode=False: PNG keeps EXIF that follows the pixel data only after a full decode, which the OpenCV path
    must not pay for, so such (rare) tags are skipped there.
    """
    if not allow_decode and image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception as exc:  # noqa: BLE001 - EXIF parsers raise all sorts on damaged metadata
        log.warning("Ignoring unreadable EXIF data in %s: %s", path, exc)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a stored [H, W, ...] array into display orientation (the same result as PIL.ImageOps.exif_transpose).

    Done on numpy views after any reduction, so rotating a large photo costs one copy of the small result.
    """
    if orientation == 2:
        out = array[:, ::-1]
    elif orientation == 3:
        out = array[::-1, ::-1]
    elif orientation == 4:
        out = array[::-1]
    elif orientation == 5:
        out = array.swapaxes(0, 1)
    elif orientation == 6:
        out = np.rot90(array, -1)
    elif orientation == 7:
        out = array[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        out = np.rot90(array, 1)
    else:
        return array
    return np.ascontiguousarray(out)


def _display_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


def capped_size(size: tuple[int, int], min_long_side: int | None) -> tuple[int, int]:
    """(width, height) whose long side is min(long side, min_long_side), keeping the aspect ratio."""
    width, height = size
    long_side = max(width, height)
    if min_long_side is None or long_side <= min_long_side:
        return size
    scale = min_long_side / long_side
    if width >= height:
        return min_long_side, max(1, round(height * scale))
    return max(1, round(width * scale)), min_long_side


def _resize_area(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (array.shape[1], array.shape[0]) == size:
        return array
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit integer or float image to 8 bits.

    16-bit values are divided by 257 (so 65535 -> 255 and 257 -> 1), not shifted, which would darken by up to one
    level. Integer images that use only 0..255 are taken as they are; floats in 0..1 are scaled by 255.
    """
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        # convertScaleAbs rounds and saturates in one pass without a uint32/float temporary of the whole photo.
        return cv2.convertScaleAbs(array, alpha=1 / 257)
    peak = float(array.max()) if array.size else 0.0
    if array.dtype.kind == "f" and peak <= 1.0:
        scaled = array * 255.0
    elif peak <= 255:
        scaled = array
    else:
        scaled = array / 257.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _native_byte_order(array: np.ndarray) -> np.ndarray:
    # Pillow exposes big-endian modes (I;16B) as '>u2' arrays, which OpenCV rejects and numpy compares as unequal
    # to np.uint16.
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def _composite_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """Premultiplied uint8 RGBA [H, W, 4] over white -> RGB [H, W, 3]: c*a + 255*(1 - a) = c_premultiplied + 255 - a."""
    alpha = rgba[..., 3:4]
    return rgba[..., :3] + (255 - alpha)


def _composite_over_white(rgba: np.ndarray) -> np.ndarray:
    """Straight (not premultiplied) uint8 RGBA [H, W, 4] over white -> RGB [H, W, 3], rounded."""
    rgb = rgba[..., :3].astype(np.uint16)
    alpha = rgba[..., 3:4].astype(np.uint16)
    # Max of rgb*a + 255*(255-a) is 255*255 = 65025, so uint16 holds it; +127 rounds the division.
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def _rawmodes(image: Image.Image) -> list[str]:
    modes: list[str] = []
    for tile in getattr(image, "tile", None) or []:
        args = tile[3] if len(tile) > 3 else None
        if isinstance(args, str):
            modes.append(args)
        elif isinstance(args, tuple) and args and isinstance(args[0], str):
            modes.append(args[0])
    return modes


def _is_deep_colour(image: Image.Image) -> bool:
    """True for 16-bit-per-channel colour (RGB 48-bit, RGBA 64-bit, LA 32-bit) PNG/TIFF.

    Pillow has no 16-bit colour modes: it opens these as 8-bit RGB/RGBA by keeping each sample's high byte, which
    truncates rather than rounds. OpenCV reads them at full depth.
    """
    if image.mode in _HIGH_DEPTH_MODES or image.format not in ("PNG", "TIFF"):
        return False
    if any("16" in rawmode for rawmode in _rawmodes(image)):
        return True
    bits = getattr(image, "tag_v2", {}).get(258) if image.format == "TIFF" else None
    if isinstance(bits, int):
        bits = (bits,)
    return bool(bits) and any(int(b) > 8 for b in bits)


def _decode_with_cv2(path: Path) -> np.ndarray:
    """Full-depth decode of a 16-bit colour PNG/TIFF -> [H, W] or [H, W, 3|4] in RGB(A) order, stored orientation.

    The bytes go through imdecode because cv2.imread cannot open non-ASCII paths on Windows. IMREAD_UNCHANGED keeps
    depth and alpha and ignores EXIF orientation (applied by the caller for every format alike).
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
        array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except MemoryError as exc:
        raise ImageReadError(f"Could not read {path}: there is not enough memory to decode this 16-bit image. Close "
                             "other programs, or save it as 8-bit, and try again.") from exc
    except (OSError, cv2.error) as exc:
        raise _damaged(path, exc) from exc
    if array is None:
        raise _damaged(path, ValueError("OpenCV could not decode the 16-bit image data"))
    if array.ndim == 3 and array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return array


def _cms_to_srgb(image: Image.Image) -> Image.Image | None:
    """Colour-managed conversion for CMYK and CIELAB, where Pillow's plain convert() gives visibly wrong colours.

    Uses the embedded ICC profile when there is one (CMYK) or the built-in LAB profile; None when lcms cannot help,
    and the caller falls back to convert().
    """
    try:
        srgb = ImageCms.createProfile("sRGB")
        if image.mode == "LAB":
            source = ImageCms.createProfile("LAB")
        else:
            icc = image.info.get("icc_profile")
            if not icc:
                return None
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        transform = ImageCms.buildTransform(source, srgb, image.mode, "RGB")
        return ImageCms.applyTransform(image, transform)
    except Exception as exc:  # noqa: BLE001 - a broken embedded profile must not make the photo unreadable
        log.debug("Colour management failed (%s); using a plain conversion", exc)
        return None


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Convert any 8-bit Pillow mode to "RGB", "L" or premultiplied "RGBa" (when there is transparency)."""
    mode = image.mode
    if mode in ("RGB", "L"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("RGBA", "LA", "PA", "La"):
        return image.convert("RGBA").convert("RGBa") if mode != "RGBA" else image.convert("RGBa")
    if mode == "RGBa":
        return image
    if mode == "P":
        # Transparency in a palette image is real alpha; converting straight to RGB would show hidden colours.
        if "transparency" in image.info:
            return image.convert("RGBA").convert("RGBa")
        return image.convert("RGB")
    if mode in ("CMYK", "LAB"):
        managed = _cms_to_srgb(image)
        if managed is not None:
            return managed
    return image.convert("RGB")


_BAND_PIXELS = 4_000_000  # rows are copied out of Pillow in bands of about this many pixels


def _pillow_to_numpy(image: Image.Image) -> np.ndarray:
    """Copy a Pillow image into a new writable numpy array, [H, W] or [H, W, C].

    np.asarray(image) goes through tobytes(), which joins encoder chunks into one bytes object (two full copies at
    its peak) and yields a read-only array; copying band by band needs only the result plus one small band.
    """
    width, height = image.size
    band_rows = max(1, _BAND_PIXELS // max(1, width))
    if band_rows >= height:
        return np.array(image)  # small image: a plain (writable) copy
    first = np.asarray(image.crop((0, 0, width, min(band_rows, height))))
    out = np.empty((height, *first.shape[1:]), dtype=first.dtype)
    out[: first.shape[0]] = first
    for top in range(band_rows, height, band_rows):
        bottom = min(top + band_rows, height)
        out[top:bottom] = np.asarray(image.crop((0, top, width, bottom)))
    return out


def _reduce_factor(size: tuple[int, int], min_long_side: int | None) -> int:
    """Largest integer box reduction that keeps the long side >= min_long_side."""
    if min_long_side is None:
        return 1
    return max(1, max(size) // min_long_side)


# --------------------------------------------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays field-wise would raise, identity is what we want
class Photo:
    """A decoded photo in display orientation.

    rgb: uint8 [H, W, 3], RGB order, EXIF orientation applied; may be smaller than the photo (see `read_photo`).
    full_size: (width, height) of the whole photo in display orientation.
    path: where it was read from, or None for photos made in memory.
    """

    rgb: np.ndarray
    full_size: tuple[int, int]
    path: Path | None = None

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def reduced(self) -> bool:
        """True when `rgb` is smaller than the photo itself."""
        return (self.width, self.height) != tuple(self.full_size)


def _photo_from_high_depth(array: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """uint16/int32/float [H, W] or [H, W, 2|3|4] -> uint8 RGB [h, w, 3] at `target` (stored orientation)."""
    array = _native_byte_order(array)
    if array.ndim == 3 and array.shape[2] in (2, 4):
        # Composite before shrinking: resizing straight (non-premultiplied) alpha would bleed the colour of
        # invisible pixels into the edges.
        array = _to_uint8(array)
        if array.shape[2] == 2:  # grey + alpha -> RGBA
            array = np.ascontiguousarray(array[..., [0, 0, 0, 1]])
        return _resize_area(_composite_over_white(array), target)
    if array.dtype in (np.uint16, np.float32):
        # Shrinking first (cv2 resizes these depths directly) keeps the 8-bit conversion cheap on big photos.
        array = _to_uint8(_resize_area(array, target))
    else:  # int32 ("I" mode): cv2 cannot resize it, and it is rare enough to convert first
        array = _resize_area(_to_uint8(array), target)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(array[..., :3])


def _photo_from_pillow(
    image: Image.Image, path: Path, target: tuple[int, int], min_long_side: int | None
) -> np.ndarray:
    """Loaded 8-bit Pillow image -> uint8 RGB [h, w, 3] at `target` (stored orientation)."""
    try:
        image = _normalise_mode(image)
        # Integer box reduction inside Pillow first: converting the whole photo to numpy would double peak memory.
        factor = _reduce_factor(image.size, min_long_side)
        if factor >= 2:
            image = image.reduce(factor)
        array = _pillow_to_numpy(image)
        mode = image.mode
    except MemoryError as exc:
        raise _out_of_memory(path, image.size) from exc
    except (ValueError, OSError) as exc:
        raise ImageReadError(
            f"Could not read {path}: its pixel format ({image.mode}) is not supported. {_SUPPORTED} in ordinary RGB "
            "or greyscale; re-save it as an 8-bit RGB JPEG, PNG or TIFF."
        ) from exc
    if mode == "RGBa":
        # Premultiplied alpha was reduced linearly above, so compositing after the reduction is exact.
        array = _composite_premultiplied(array)
    array = _resize_area(array, target)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(array)


def read_photo(
    path: str | os.PathLike[str], *, min_long_side: int | None = None, max_pixels: int = 250_000_000
) -> Photo:
    """Read a photo as 8-bit RGB in display orientation.

    Args:
        path: a JPEG, PNG, TIFF, BMP, WebP or HEIC file (other formats Pillow reads also work). Never modified.
        min_long_side: the caller needs only this many pixels on the long side. JPEGs are then decoded at the
            largest DCT reduction (1/2, 1/4, 1/8) that keeps the long side >= min_long_side, other formats are
            decoded fully; either way the result is then shrunk with INTER_AREA so that rgb's long side is exactly
            min(min_long_side, the photo's long side). Never upscaled. None: full resolution.
        max_pixels: photos with more pixels are refused (checked from the header, before decoding).

    Returns:
        Photo with rgb uint8 [H, W, 3] and full_size (width, height) of the whole photo.

    Raises:
        ImageReadError: missing, a folder, empty, not an image, damaged/truncated, too large, unsupported.
    """
    if min_long_side is not None and min_long_side < 1:
        raise ValueError(f"min_long_side must be a positive number of pixels or None, not {min_long_side}")
    file = Path(path)
    with _open_image(file, max_pixels, "photo") as image:
        stored_size = image.size
        target = capped_size(stored_size, min_long_side)
        # Decide before anything loads the pixels: loading clears the tile list that reveals 16-bit samples.
        if _is_deep_colour(image):
            log.debug("Reading %s at 16 bits per channel with OpenCV", file)
            orientation = _exif_orientation(image, file, allow_decode=False)
            rgb = _photo_from_high_depth(_decode_with_cv2(file), target)
        else:
            # isinstance, not format == "JPEG": camera JPEGs with a depth map or preview open as "MPO".
            if isinstance(image, JpegImagePlugin.JpegImageFile) and target != stored_size:
                # DCT scaling: libjpeg never materialises the full-size photo. Asking only for the long side lets
                # it pick the strongest reduction allowed by that side alone.
                request = (min_long_side, 1) if stored_size[0] >= stored_size[1] else (1, min_long_side)
                image.draft(image.mode, request)
                log.debug("Decoding %s at %s instead of %s (JPEG draft)", file, image.size, stored_size)
            _load(image, file)
            orientation = _exif_orientation(image, file)
            if image.mode in _HIGH_DEPTH_MODES:
                rgb = _photo_from_high_depth(_pillow_to_numpy(image), target)
            else:
                rgb = _photo_from_pillow(image, file, target, min_long_side)
    rgb = _apply_orientation(rgb, orientation)
    return Photo(rgb=rgb, full_size=_display_size(stored_size, orientation), path=file)


# --------------------------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------------------------


def _palette_values(image: Image.Image) -> np.ndarray:
    """Mask values of a palette image: grey palettes by luminance, coloured ones (label tools such as labelme store
    class 1 as dark red) by index, where index 0 is background."""
    indices = _pillow_to_numpy(image)
    palette = image.getpalette() or []
    colours = np.array(palette, dtype=np.uint8).reshape(-1, 3) if palette else np.zeros((0, 3), np.uint8)
    used = np.unique(indices)
    used = used[used < len(colours)]
    if len(colours) and np.all(colours[used].min(axis=1) == colours[used].max(axis=1)):
        return colours[:, 0][np.minimum(indices, len(colours) - 1)]
    return indices


def _mask_values(image: Image.Image, path: Path, deep: bool) -> np.ndarray:
    """Opened Pillow image -> single-channel array at its own depth (uint8, uint16, int32 or float)."""
    if deep:
        array = _decode_with_cv2(path)
        if array.ndim == 3 and array.shape[2] >= 3:
            # Luminance of the colour channels; alpha is not what a mask means.
            array = cv2.cvtColor(np.ascontiguousarray(array[..., :3]), cv2.COLOR_RGB2GRAY)
        elif array.ndim == 3:  # grey + alpha
            array = np.ascontiguousarray(array[..., 0])
        return array
    _load(image, path)
    try:
        if image.mode in _HIGH_DEPTH_MODES or image.mode == "L":
            return _native_byte_order(_pillow_to_numpy(image))
        if image.mode == "1":
            return _pillow_to_numpy(image).astype(np.uint8)
        if image.mode == "P":
            return _palette_values(image)
        if image.mode in ("LA", "La"):
            return _pillow_to_numpy(image.getchannel("L"))
        return _pillow_to_numpy(_normalise_mode(image).convert("RGB").convert("L"))
    except (ValueError, OSError) as exc:
        raise ImageReadError(
            f"Could not read {path}: its pixel format ({image.mode}) is not supported for masks. Save the mask as an "
            "8-bit greyscale PNG with 0 for background and 255 for skin."
        ) from exc


def _threshold(values: np.ndarray) -> np.ndarray:
    """0/1 masks: > 0. 8-bit masks (and 16-bit files holding 8-bit values): >= 128. Otherwise >= half of 16-bit."""
    peak = values.max() if values.size else 0
    if peak <= 1:
        return values > 0
    if values.dtype == np.uint8 or peak <= 255:
        return values >= 128
    return values >= 32768


def read_mask(path: str | os.PathLike[str], *, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file as bool [H, W] in display orientation (EXIF applied, as for the matching photo).

    Accepts 0/255 and 0/1 masks in any mode: L, 1, P (grey palette by value, coloured palette by index), RGB/RGBA
    (by luminance), 16-bit. A mask whose values are all <= 1 is `value > 0`; otherwise `value >= 128`, or
    `value >= 32768` for 16-bit masks that use the 16-bit range.

    size: (width, height); if given and different, the mask is resized with nearest-neighbour (masks are never
    interpolated).
    """
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ValueError(f"size must be (width, height) with positive values, not {size}")
    file = Path(path)
    with _open_image(file, 250_000_000, "mask") as image:
        deep = _is_deep_colour(image)  # before anything loads the pixels (see read_photo)
        values = _mask_values(image, file, deep)
        orientation = _exif_orientation(image, file, allow_decode=not deep)
    mask = _apply_orientation(_threshold(values), orientation)
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        # INTER_NEAREST_EXACT samples pixel centres like Pillow's NEAREST; plain INTER_NEAREST is shifted by half
        # a pixel and would move the mask edge.
        resized = cv2.resize(
            mask.view(np.uint8), (int(size[0]), int(size[1])), interpolation=cv2.INTER_NEAREST_EXACT
        )
        mask = resized.astype(bool)
    return mask


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------


# Two-valued masks are long runs of 0 and 255: without PNG's row filters and with zlib's run-length strategy they
# encode about 6x faster (16 ms instead of 95 ms for 12 MP here) at the same size.
_MASK_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
                    cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


def _encode_png(array: np.ndarray, params: list[int] | None = None) -> bytes:
    # cv2 writes no metadata chunks and is several times faster than Pillow on large masks.
    ok, encoded = cv2.imencode(".png", array, params or [cv2.IMWRITE_PNG_COMPRESSION, _PNG_COMPRESSION])
    if not ok:
        raise SkinSegError(f"Could not encode a {array.shape[1]} x {array.shape[0]} image as PNG.")
    return encoded.tobytes()


def write_mask_png(path: str | os.PathLike[str], mask: np.ndarray) -> None:
    """Save a mask as an 8-bit PNG with 0 (background) and 255 (skin), atomically.

    mask: [H, W] bool, or numbers that are all 0/1 or all 0/255.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(f"a mask must be a non-empty 2-D array [H, W], got shape {mask.shape}")
    if mask.dtype == bool:
        binary = mask
    elif mask.dtype.kind in "uif":
        peak = mask.max()
        if peak <= 1:
            valid = bool(np.all((mask == 0) | (mask == 1)))
        else:
            valid = peak == 255 and bool(np.all((mask == 0) | (mask == 255)))
        if not valid:
            raise ValueError(
                "a mask must hold only 0/1 or 0/255; threshold it first, or save graded values with write_gray_png"
            )
        binary = mask > 0
    else:
        raise TypeError(f"a mask must be bool or numeric, not {mask.dtype}")
    atomic_write_bytes(path, _encode_png(binary.astype(np.uint8) * np.uint8(255), _MASK_PNG_PARAMS))


def write_gray_png(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Save a uint8 [H, W] image (e.g. probabilities * 255) as an 8-bit greyscale PNG, atomically."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"write_gray_png needs uint8 values 0..255, not {image.dtype}; scale and round first")
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"write_gray_png needs a non-empty 2-D array [H, W], got shape {image.shape}")
    atomic_write_bytes(path, _encode_png(np.ascontiguousarray(image)))


# --------------------------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------------------------


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith("."):  # also macOS "._" resource forks and SkinSeg's own temporary files
        return True
    if os.name != "nt":
        return False
    try:
        attributes = getattr(entry.stat(), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attributes & 0x2)  # FILE_ATTRIBUTE_HIDDEN


def list_photos(folder: str | os.PathLike[str]) -> list[Path]:
    """Photo files directly in `folder` (not in sub-folders), by suffix (any case), skipping hidden files.

    Sorted by name, case-insensitively, so the order is the same on every platform. An empty list is not an
    error here; callers decide what an empty folder means. A missing folder raises SkinSegError.
    """
    root = Path(folder)
    try:
        with os.scandir(root) as entries:
            photos = [
                root / entry.name
                for entry in entries
                if os.path.splitext(entry.name)[1].lower() in PHOTO_SUFFIXES
                and not _is_hidden(entry)
                and entry.is_file()
            ]
    except FileNotFoundError:
        raise SkinSegError(
            f"The folder {root} does not exist. Check the path, and that the drive is connected."
        ) from None
    except NotADirectoryError:
        raise SkinSegError(f"{root} is a file, not a folder. Choose the folder that holds the photos.") from None
    except PermissionError as exc:
        raise SkinSegError(
            f"Could not open the folder {root}: permission denied. Choose a folder you may read."
        ) from exc
    return sorted(photos, key=lambda p: (p.name.casefold(), p.name))
