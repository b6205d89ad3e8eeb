"""Build SkinSeg's installers into dist/: the frozen app (PyInstaller, one folder), then per system

    Linux    dist/skinseg_<version>_<arch>.deb            the bundle under /opt/skinseg, `skinseg-app` and `skinseg`
                                                         on the PATH, a .desktop entry with the icon and image types
             dist/skinseg-<version>-linux-<machine>.tar.gz   the same bundle, to unpack anywhere
    Windows  dist/SkinSeg-<version>-windows-<machine>.zip    (not tested here)
    macOS    dist/SkinSeg-<version>-macos-<machine>.zip      SkinSeg.app, zipped with ditto (not tested here)

    python build/make_dist.py                  build everything (PyInstaller reuses its cache in build/_work/)
    python build/make_dist.py --bundle-only    only dist/skinseg/ (what build/check_frozen.py checks)
    python build/make_dist.py --skip-build     pack the existing dist/skinseg/ again

The version comes from skinseg_core/__init__.py. Torch's libraries are stripped here, after the build (never with the
spec's strip=True, which breaks numpy's OpenBLAS). Needs pyinstaller (the dev extras); on Linux also strip, dpkg-deb
and tar.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skinseg_core  # noqa: E402  (the one place the version is written)

VERSION = skinseg_core.__version__
PACKAGE = "skinseg"  # the Debian package, the .desktop file and the icon name (app.identity.APP_ID)
APP_NAME = "SkinSeg"
EXE_NAME = "skinseg-app"
SPEC = ROOT / "build" / "skinseg.spec"
WORK = ROOT / "build" / "_work"
DIST = ROOT / "dist"
BUNDLE = DIST / "skinseg"
ICONS = ROOT / "resources" / "icons"
INSTALL_DIR = f"/opt/{PACKAGE}"
IMAGE_TYPES = ["image/jpeg", "image/png", "image/tiff", "image/bmp", "image/webp", "image/heic", "image/heif"]
SUMMARY = "skin segmentation of clinical photographs (research use only)"
DESCRIPTION = """\
SkinSeg finds the skin, healthy and diseased, in ordinary clinical photographs
(Codella et al., EMBC 2018) and lets you correct, export and fine-tune the masks.
It works offline: photos never leave the computer. For research use only; not a
medical device. This package holds a self-contained build (Python, Qt, ONNX
Runtime and PyTorch for the CPU) under /opt/skinseg."""
# Used when dpkg-shlibdeps cannot work out the dependencies: the system libraries a PySide6 / PyInstaller bundle
# loads on Debian 12 and Ubuntu 22.04+ (X11 and Wayland, OpenGL, fonts, D-Bus).
FALLBACK_DEPENDS = [
    "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libglib2.0-0", "libdbus-1-3", "libfontconfig1", "libfreetype6",
    "libgl1", "libegl1", "libopengl0", "libx11-6", "libx11-xcb1", "libxcb1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-xinerama0", "libxcb-xkb1", "libwayland-client0", "libwayland-cursor0",
    "libwayland-egl1",
]

# The Debian/Ubuntu packages of libraries that Qt's Wayland and X11 plugins link to, for when the build machine lacks
# them (dpkg-shlibdeps can only look up installed libraries).
MISSING_LIBRARY_PACKAGES = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
}


def log(message: str) -> None:
    print(f"[make_dist] {message}", flush=True)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in command))
    return subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def machine() -> str:
    name = platform.machine().lower()
    return "x86_64" if name == "amd64" else name


# ---------------------------------------------------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------------------------------------------------

def build_bundle(clean: bool) -> None:
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(DIST),
               "--workpath", str(WORK / "pyinstaller"), str(SPEC)]
    if clean:
        command.insert(3, "--clean")
    run(command, cwd=ROOT)


def internal_dir(bundle: Path) -> Path:
    """PyInstaller 6 puts everything but the executable into _internal/."""
    inner = bundle / "_internal"
    return inner if inner.is_dir() else bundle


def slim_bundle(bundle: Path) -> None:
    """Strip torch's shared libraries (their symbol tables are most of their size); check what must stay stayed."""
    inner = internal_dir(bundle)
    torch_lib = inner / "torch" / "lib"
    if sys.platform.startswith("linux") and torch_lib.is_dir() and shutil.which("strip"):
        before = size_mb(torch_lib)
        libs = sorted(p for p in torch_lib.iterdir() if p.is_file() and not p.is_symlink() and ".so" in p.name)
        for lib in libs:
            subprocess.run(["strip", "--strip-unneeded", str(lib)], check=True)
        log(f"stripped {len(libs)} torch libraries: {before:.0f} MB -> {size_mb(torch_lib):.0f} MB")
    shm_manager = inner / "torch" / "bin" / ("torch_shm_manager.exe" if sys.platform == "win32" else "torch_shm_manager")
    if sys.platform.startswith("linux") and not shm_manager.is_file():
        raise SystemExit(f"{shm_manager} is missing: torch will not import without it (see build/skinseg.spec KEEP_BIN)")


# ---------------------------------------------------------------------------------------------------------------------
# Linux: .deb and .tar.gz
# ---------------------------------------------------------------------------------------------------------------------

def desktop_entry() -> str:
    """The freedesktop.org menu entry (usr/share/applications/skinseg.desktop)."""
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "GenericName=Skin Segmentation",
        "Comment=Find the skin in clinical photographs (research use only)",
        f"Exec={EXE_NAME} %F",
        f"TryExec={EXE_NAME}",
        f"Icon={PACKAGE}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={APP_NAME}",
        "Categories=Graphics;Viewer;Science;MedicalSoftware;",
        "Keywords=skin;segmentation;dermatology;mask;photo;",
        "MimeType=" + "".join(f"{t};" for t in IMAGE_TYPES),
        "",
    ])


def launcher(*extra: str) -> str:
    arguments = " ".join([*extra, '"$@"'])
    return f"#!/bin/sh\nexec {INSTALL_DIR}/{EXE_NAME} {arguments}\n"


def control_file(arch: str, installed_kib: int, depends: list[str]) -> str:
    """The Debian control file; the description's continuation lines start with a space, empty ones are " ."."""
    body = "\n".join(f" {line}" if line.strip() else " ." for line in DESCRIPTION.splitlines())
    return "\n".join([
        f"Package: {PACKAGE}",
        f"Version: {VERSION}",
        f"Architecture: {arch}",
        "Maintainer: SkinSeg developers <skinseg@example.org>",
        f"Installed-Size: {installed_kib}",
        f"Depends: {', '.join(depends)}",
        "Section: science",
        "Priority: optional",
        f"Description: {SUMMARY}",
        body,
        "",
    ])


def _elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def _missing_libraries(elves: list[Path], inner: Path) -> dict[Path, set[str]]:
    """Per ELF file, the libraries it links to that neither the bundle nor this machine has (ldd's "not found")."""
    missing: dict[Path, set[str]] = {}
    env = dict(os.environ, LD_LIBRARY_PATH=str(inner))
    for path in elves:
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        names = {line.split("=>")[0].strip() for line in result.stdout.splitlines() if "not found" in line}
        if names:
            missing[path] = names
    return missing


def shlib_depends(bundle: Path) -> list[str]:
    """The packages of the system libraries the bundle links to, with minimal versions (dpkg-shlibdeps); the fallback
    list when that fails (e.g. not on Debian or Ubuntu). Libraries absent from the build machine (e.g. Wayland's on a
    machine without it) cannot be looked up: the files needing them are left out of the lookup and the packages
    MISSING_LIBRARY_PACKAGES names are added."""
    if not shutil.which("dpkg-shlibdeps"):
        log("dpkg-shlibdeps is not installed (package dpkg-dev): using the fallback dependency list")
        return FALLBACK_DEPENDS
    inner = internal_dir(bundle)
    elves = _elf_files(bundle)
    lib_dirs = sorted({str(p.parent) for p in elves})
    missing = _missing_libraries(elves, inner)
    extra: set[str] = set()
    for path, names in sorted(missing.items()):
        for name in sorted(names):
            package = MISSING_LIBRARY_PACKAGES.get(name)
            if package is None:
                log(f"warning: {name} (needed by {path.relative_to(bundle)}) is not on this machine and has no "
                    "package in MISSING_LIBRARY_PACKAGES: the .deb will not depend on it")
            else:
                extra.add(package)
    elves = [p for p in elves if p not in missing]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "debian").mkdir()
        (Path(tmp) / "debian" / "control").write_text(
            f"Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n", encoding="utf-8")
        command = ["dpkg-shlibdeps", "-O", "--ignore-missing-info", "-xlibc6-dev",
                   *(f"-l{d}" for d in lib_dirs), *(str(p) for p in elves)]
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                                env=dict(os.environ, LD_LIBRARY_PATH=str(inner)))
    if result.returncode != 0 or "shlibs:Depends=" not in result.stdout:
        log(f"dpkg-shlibdeps failed ({result.stderr.strip()[-500:]}): using the fallback dependency list")
        return FALLBACK_DEPENDS
    line = next(x for x in result.stdout.splitlines() if x.startswith("shlibs:Depends="))
    depends = [d.strip() for d in line.split("=", 1)[1].split(",") if d.strip()]
    return depends + sorted(extra - {d.split()[0] for d in depends})


def stage_deb(bundle: Path, stage: Path, arch: str) -> None:
    """The .deb's file tree: /opt/skinseg (hard links to the bundle, so nothing is copied), launchers, menu entry,
    icons, docs, DEBIAN/control."""
    if stage.exists():
        shutil.rmtree(stage)
    opt = stage / INSTALL_DIR.lstrip("/")
    opt.parent.mkdir(parents=True)
    try:
        shutil.copytree(bundle, opt, symlinks=True, copy_function=os.link)
    except OSError:  # another file system: copy
        shutil.rmtree(opt, ignore_errors=True)
        shutil.copytree(bundle, opt, symlinks=True)
    usr = stage / "usr"
    (usr / "bin").mkdir(parents=True)
    for name, extra in ((EXE_NAME, ()), ("skinseg", ("--cli",))):
        path = usr / "bin" / name
        path.write_text(launcher(*extra), encoding="utf-8")
        path.chmod(0o755)
    applications = usr / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{PACKAGE}.desktop").write_text(desktop_entry(), encoding="utf-8")
    for png in sorted(ICONS.glob("skinseg-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        target = usr / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{PACKAGE}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    scalable = usr / "share" / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(ICONS / "skinseg.svg", scalable / f"{PACKAGE}.svg")
    doc = usr / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "SkinSeg: research use only. The bundled model's training data and its terms (Fitzpatrick17k: "
        f"non-commercial) are listed in its model card, {INSTALL_DIR}/_internal/models/MODEL_CARD.md.\n"
        "The bundle includes Python, Qt (LGPLv3, via PySide6), PyTorch, ONNX Runtime, OpenCV, NumPy, SciPy and "
        "Pillow under their own licences.\n", encoding="utf-8")
    for folder in [stage, *[p for p in stage.rglob("*") if p.is_dir()]]:
        if not str(folder).startswith(str(opt)):
            folder.chmod(0o755)
    installed_kib = int(sum(p.stat().st_size for p in stage.rglob("*") if p.is_file() and not p.is_symlink()) / 1024)
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(control_file(arch, installed_kib, shlib_depends(bundle)),
                                              encoding="utf-8")


def make_deb(bundle: Path) -> Path:
    arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()
    stage = WORK / "deb" / f"{PACKAGE}_{VERSION}_{arch}"
    stage_deb(bundle, stage, arch)
    out = DIST / f"{PACKAGE}_{VERSION}_{arch}.deb"
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(stage), str(out)])
    shutil.rmtree(stage)
    return out


def make_tarball(bundle: Path) -> Path:
    top = f"{PACKAGE}-{VERSION}"
    out = DIST / f"{top}-linux-{machine()}.tar.gz"
    run(["tar", "--create", "--gzip", "--file", str(out), "--directory", str(bundle.parent), "--owner=0", "--group=0",
         "--numeric-owner", f"--transform=s,^{bundle.name},{top},", bundle.name])
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Windows and macOS (not tested here)
# ---------------------------------------------------------------------------------------------------------------------

def make_windows_zip(bundle: Path) -> Path:
    out = DIST / f"{APP_NAME}-{VERSION}-windows-{machine()}"
    return Path(shutil.make_archive(str(out), "zip", root_dir=bundle.parent, base_dir=bundle.name))


def make_macos_zip() -> Path:
    app = DIST / f"{APP_NAME}.app"
    out = DIST / f"{APP_NAME}-{VERSION}-macos-{machine()}.zip"
    run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(app), str(out)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle-only", action="store_true", help="build dist/skinseg/ only, no packages")
    parser.add_argument("--skip-build", action="store_true", help="pack the existing dist/skinseg/ again")
    parser.add_argument("--clean", action="store_true", help="rebuild PyInstaller's cache from nothing")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.skip_build:
        build_bundle(args.clean)
        slim_bundle(BUNDLE)
        log(f"bundle {BUNDLE}: {size_mb(BUNDLE):.0f} MB, built in {time.monotonic() - started:.0f} s")
    elif not BUNDLE.is_dir():
        raise SystemExit(f"{BUNDLE} does not exist: run without --skip-build first")
    if args.bundle_only:
        return 0
    outputs: list[Path] = []
    if sys.platform.startswith("linux"):
        outputs += [make_deb(BUNDLE), make_tarball(BUNDLE)]
    elif sys.platform == "win32":
        outputs.append(make_windows_zip(BUNDLE))
    elif sys.platform == "darwin":
        outputs.append(make_macos_zip())
    for path in outputs:
        log(f"{path.relative_to(ROOT)}: {size_mb(path):.1f} MB")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
