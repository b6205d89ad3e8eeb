"""Check a frozen SkinSeg (dist/skinseg/ from build/make_dist.py, or an installed /opt/skinseg) end to end.

    python build/check_frozen.py [dist/skinseg/skinseg-app] [--photo FILE] [--xvfb] [--runs N] [--no-finetune]

1. The bundle holds the bundled model and its card, the face detectors, the icons, the Qt plugins the app needs
   (window systems, image formats, SVG icons) and torch_shm_manager, and none of what the spec leaves out; on Linux
   every library it ships finds the Qt libraries it links to.
2. `skinseg-app --version` and `skinseg-app --cli --version` say the source's version.
3. The app is started on a photo (a generated one unless --photo is given; it is copied first, since the app keeps
   its sidecar beside the photo) with --screenshot and --quit-after-segmentation, offscreen (or under Xvfb with
   --xvfb), with its own empty user folders: it must show the bundled model's mask and quit with status 0. Its
   report says when the window appeared; the first run also exports the model to ONNX (torch.onnx + onnx), later
   runs are the warm start that the README quotes.
4. The fine-tuning child process (`skinseg-app --finetune-job JOB_DIR`, what the app starts) trains one epoch on a
   few generated corrected photos and writes its result.

Writes the screenshot, the reports and a summary into --out (build/_work/check/ by default); exits with 1 and a list
of what failed if anything did.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import skinseg_core  # noqa: E402

DEFAULT_EXE = ROOT / "dist" / "skinseg" / ("skinseg-app.exe" if sys.platform == "win32" else "skinseg-app")
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
TIMEOUT_S = 600


class Check:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def require(self, condition: bool, what: str) -> bool:
        print(f"  {'ok  ' if condition else 'FAIL'} {what}", flush=True)
        if not condition:
            self.failures.append(what)
        return condition


def bundle_root(exe: Path) -> Path:
    """dist/skinseg/ (Linux, Windows) or SkinSeg.app/ (macOS: SkinSeg.app/Contents/MacOS/skinseg-app)."""
    return exe.parents[2] if exe.parent.name == "MacOS" else exe.parent


def internal_dir(exe: Path) -> Path:
    bundle = exe.parent
    if (bundle / "_internal").is_dir():
        return bundle / "_internal"
    if (bundle.parent / "Resources").is_dir():  # macOS: SkinSeg.app/Contents/MacOS/skinseg-app
        return bundle.parent / "Resources"
    return bundle


def check_files(check: Check, exe: Path) -> None:
    print("bundle contents:", flush=True)
    inner = internal_dir(exe)
    check.require(exe.is_file() and os.access(exe, os.X_OK), f"the executable {exe}")
    for name in ("skinseg-bundled.json", "skinseg-bundled.safetensors", "skinseg-bundled-people.json",
                 "skinseg-bundled-people.safetensors", "MODEL_CARD.md"):
        check.require((inner / "models" / name).is_file(), f"models/{name}")
    for name in ("haarcascade_frontalface_alt2.xml", "haarcascade_profileface.xml"):  # the face colour gate's
        check.require((inner / "cv2" / "data" / name).is_file(), f"cv2/data/{name}")
    for size in ICON_SIZES:
        check.require((inner / "resources" / "icons" / f"skinseg-{size}.png").is_file(), f"icon {size} px")
    plugins = inner / "PySide6" / "Qt" / "plugins"
    if sys.platform.startswith("linux"):
        wanted = ["platforms/libqoffscreen.so", "platforms/libqxcb.so", "platforms/libqwayland.so",
                  "imageformats/libqjpeg.so", "imageformats/libqsvg.so", "iconengines/libqsvgicon.so",
                  "xcbglintegrations/libqxcb-glx-integration.so", "wayland-shell-integration/libxdg-shell.so"]
        for plugin in wanted:
            check.require((plugins / plugin).is_file(), f"Qt plugin {plugin}")
        check.require((inner / "torch" / "bin" / "torch_shm_manager").is_file(), "torch/bin/torch_shm_manager")
    left_out = {
        "torch's headers": inner / "torch" / "include",
        "torch's tests": inner / "torch" / "test",
        "Qt's translations": inner / "PySide6" / "Qt" / "translations",
    }
    for what, path in left_out.items():
        check.require(not path.exists(), f"no {what} ({path.relative_to(inner)})")
    test_programs = sorted(p.name for p in (inner / "torch" / "bin").glob("test*"))
    test_libs = sorted(p.name for p in (inner / "torch" / "lib").glob("*test*"))
    static = sorted(str(p.relative_to(inner)) for p in inner.rglob("*.a"))
    glibc = sorted(p.name for pattern in ("libc.so*", "libm.so*", "libmvec.so*", "libpthread.so*", "libdl.so*",
                                          "ld-linux*") for p in inner.glob(pattern))
    check.require(not glibc, f"no C library parts, which must be the system's own {glibc}")
    check.require(not test_programs and not test_libs and not static,
                  f"no torch test programs, test libraries or static libraries {test_programs + test_libs + static}")
    if sys.platform.startswith("linux") and shutil.which("ldd"):
        check_links(check, inner)


def check_links(check: Check, inner: Path) -> None:
    """Every shipped ELF file finds the Qt (and other bundled) libraries it links to; a missing system library is
    reported too (the .deb's Depends installs those)."""
    missing_bundled: set[str] = set()
    missing_system: set[str] = set()
    env = dict(os.environ, LD_LIBRARY_PATH=str(inner))
    for path in inner.rglob("*.so*"):
        if not path.is_file() or path.is_symlink():
            continue
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        for line in result.stdout.splitlines():
            if "not found" in line:
                lib = line.split("=>")[0].strip()
                (missing_bundled if lib.startswith(("libQt6", "libpyside6", "libshiboken6")) else missing_system).add(
                    f"{lib} (for {path.relative_to(inner)})")
    check.require(not missing_bundled, f"every Qt library a shipped library needs is in the bundle "
                                       f"{sorted(missing_bundled)[:10]}")
    if missing_system:
        print(f"  note system libraries absent on this machine: {sorted(missing_system)[:10]}", flush=True)


def isolated_env(home: Path, xvfb: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKINSEG_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
               SKINSEG_DATA_DIR=str(home / "skinseg-data"), SKINSEG_CACHE_DIR=str(home / "skinseg-cache"),
               SKINSEG_LOG_DIR=str(home / "skinseg-logs"), QT_QPA_PLATFORM="xcb" if xvfb else "offscreen")
    return env


def generated_photo(path: Path, size: tuple[int, int] = (960, 720)) -> Path:
    """A skin-coloured hand-sized ellipse with a darker lesion on a textured blue-grey background."""
    width, height = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    photo = rng.integers(40, 90, (height, width, 3)).astype(np.int32)
    photo[..., 2] += 80
    inside = ((xx - width * 0.5) / (width * 0.28)) ** 2 + ((yy - height * 0.5) / (height * 0.36)) ** 2 <= 1
    shade = 1.0 - 0.25 * (((xx - width * 0.45) / width) ** 2 + ((yy - height * 0.4) / height) ** 2) * 4
    photo[inside] = (np.array([224, 172, 140]) * shade[..., None])[inside].astype(np.int32)
    lesion = ((xx - width * 0.55) / 40) ** 2 + ((yy - height * 0.45) / 30) ** 2 <= 1
    photo[lesion] = (150, 80, 70)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(path, quality=92)
    return path


def run_app(check: Check, exe: Path, photo: Path, env: dict[str, str], out: Path, run: int, xvfb: bool) -> dict:
    shot = out / f"frozen-check-{run}.png"
    command = [str(exe), str(photo), "--screenshot", str(shot), "--quit-after-segmentation"]
    if xvfb:
        command = ["xvfb-run", "--auto-servernum", "--server-args=-screen 0 1600x1000x24", *command]
    launched = time.time()
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        check.require(False, f"run {run}: the app quit within {TIMEOUT_S} s")
        return {}
    ended = time.time()
    (out / f"frozen-check-{run}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    print(f"run {run}: exit status {result.returncode} after {ended - launched:.1f} s", flush=True)
    if not check.require(result.returncode == 0, f"run {run}: the app exits with status 0 "
                                                 f"(output: {(result.stdout + result.stderr)[-1500:]!r})"):
        return {}
    report_path = shot.with_suffix(".json")
    if not check.require(shot.is_file() and report_path.is_file(), f"run {run}: screenshot and report written"):
        return {}
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["launched_at"] = launched
    report["window_after_launch_s"] = report["window_shown_at"] - launched if report.get("window_shown_at") else None
    report["segmented_after_launch_s"] = (report["segmentation_shown_at"] - launched
                                          if report.get("segmentation_shown_at") else None)
    report["exited_after_launch_s"] = ended - launched
    model = report.get("model") or {}
    check.require(report.get("ok") is True, f"run {run}: the app reports success ({report.get('error')})")
    check.require(report.get("frozen") is True, f"run {run}: it ran frozen")
    check.require(report.get("version") == skinseg_core.__version__, f"run {run}: version {report.get('version')}")
    check.require(model.get("bundled") is True and model.get("path", "").startswith(str(bundle_root(exe))),
                  f"run {run}: the bundled model from the bundle ({model.get('path')})")
    check.require(report.get("model_card") is True, f"run {run}: the model card is found")
    area = report.get("skin_area") or {}
    check.require(area.get("pixels", 0) > 0, f"run {run}: a mask is shown ({area})")
    check.require(set(ICON_SIZES) <= set(report.get("icon_sizes", [])) and report.get("window_icon") is True,
                  f"run {run}: the app and window icon ({report.get('icon_sizes')})")
    formats = set(report.get("image_formats", []))
    check.require({"jpeg", "png", "svg", "gif", "ico", "webp", "tiff"} <= formats,
                  f"run {run}: Qt image format plugins ({sorted(formats)})")
    check.require(report.get("qt_platform") == ("xcb" if xvfb else "offscreen"),
                  f"run {run}: Qt platform {report.get('qt_platform')}")
    print(f"  window shown {report['window_after_launch_s']:.2f} s after launch "
          f"({report.get('cpu_s_at_window_shown') or 0:.2f} s of CPU); mask shown after "
          f"{report['segmented_after_launch_s']:.2f} s", flush=True)
    return report


def check_versions(check: Check, exe: Path, env: dict[str, str]) -> None:
    print("versions:", flush=True)
    for args, expected in (([], f"SkinSeg {skinseg_core.__version__}"), (["--cli"], f"skinseg {skinseg_core.__version__}")):
        result = subprocess.run([str(exe), *args, "--version"], env=env, capture_output=True, text=True, timeout=300)
        check.require(result.returncode == 0 and result.stdout.strip() == expected,
                      f"`skinseg-app {' '.join([*args, '--version'])}` says {expected!r} ({result.stdout.strip()!r})")


def check_finetune(check: Check, exe: Path, env: dict[str, str], work: Path) -> dict:
    """The app's fine-tuning child, as the frozen app starts it (skinseg_core.frozen.module_command)."""
    from skinseg_core.finetune_job import JobSpec
    from skinseg_core.training import TrainSettings
    from tests.corrected import write_corrected_folder

    print("fine-tuning child process:", flush=True)
    photos = write_corrected_folder(work / "corrected", corrected=5)
    settings = TrainSettings(learning_rate=0.001, epochs=1, patience=5, batch_size=2)
    job = work / "job"
    JobSpec([str(p) for p in photos], str(internal_dir(exe) / "models" / "skinseg-bundled.json"),
            settings.to_dict(), device="cpu", threads=1).write(job)
    started = time.time()
    with open(job / "child.log", "wb") as log_file:
        result = subprocess.run([str(exe), "--finetune-job", str(job)], env=env, stdout=log_file,
                                stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
    seconds = time.time() - started
    events = [json.loads(line) for line in (job / "progress.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()] if (job / "progress.jsonl").exists() else []
    last = events[-1] if events else {}
    check.require(result.returncode == 0 and last.get("event") == "done",
                  f"`skinseg-app --finetune-job` trains and finishes in {seconds:.0f} s (status {result.returncode}, "
                  f"last event {last}; log {job / 'child.log'})")
    check.require((job / "result" / "model.json").is_file() and (job / "result" / "comparison.json").is_file(),
                  "the job's result (model.json, comparison.json)")
    return {"seconds": seconds, "status": result.returncode, "last_event": last}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exe", nargs="?", type=Path, default=DEFAULT_EXE, help=f"default: {DEFAULT_EXE}")
    parser.add_argument("--photo", type=Path, help="a photo to open (copied first); default: a generated one")
    parser.add_argument("--xvfb", action="store_true", help="run under Xvfb (the xcb platform) instead of offscreen")
    parser.add_argument("--runs", type=int, default=2, help="app starts (the first is cold for the ONNX export)")
    parser.add_argument("--no-finetune", action="store_true", help="skip the fine-tuning child process")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "_work" / "check")
    args = parser.parse_args(argv)
    exe = args.exe.resolve()
    check = Check()
    check_files(check, exe)
    args.out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"exe": str(exe), "version": skinseg_core.__version__, "runs": []}
    with tempfile.TemporaryDirectory(prefix="skinseg-frozen-check-") as tmp:
        home = Path(tmp)
        env = isolated_env(home / "home", args.xvfb)
        if exe.is_file():
            check_versions(check, exe, env)
            photo_dir = home / "photos"
            photo_dir.mkdir()
            photo = (shutil.copy2(args.photo, photo_dir / args.photo.name) if args.photo
                     else generated_photo(photo_dir / "generated.jpg"))
            print(f"app on {Path(photo).name} ({'Xvfb' if args.xvfb else 'offscreen'}):", flush=True)
            for run in range(1, args.runs + 1):
                summary["runs"].append(run_app(check, exe, Path(photo), env, args.out, run, args.xvfb))
            if not args.no_finetune:
                summary["finetune"] = check_finetune(check, exe, env, home)
    warm = [r for r in summary["runs"][1:] if r.get("window_after_launch_s")]
    if warm:
        summary["warm_start_s"] = min(r["window_after_launch_s"] for r in warm)
        print(f"warm start: window shown {summary['warm_start_s']:.2f} s after launch", flush=True)
    summary["failures"] = check.failures
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if check.failures:
        print(f"\nFAILED ({len(check.failures)}):\n" + "\n".join(f"  - {f}" for f in check.failures), flush=True)
        return 1
    print(f"\nThe frozen app passed; screenshot {args.out / f'frozen-check-{args.runs}.png'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
