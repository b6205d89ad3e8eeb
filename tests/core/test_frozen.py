"""A frozen (PyInstaller) SkinSeg: child processes started through the app's own executable, the bundle's files found
in the bundle folder; the installers' metadata (version, .desktop entry, Debian control file) from one source."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import skinseg_core
from skinseg_core import paths
from skinseg_core.finetune_job import EXIT_ERROR, FinetuneProcess, JobSpec
from skinseg_core.frozen import module_command, run_hidden_command

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)


def test_module_command_from_source() -> None:
    assert module_command("skinseg_core.finetune_job", "JOB") == [sys.executable, "-m", "skinseg_core.finetune_job",
                                                                  "JOB"]


def test_module_command_frozen_uses_the_hidden_argument(frozen: None) -> None:
    assert module_command("skinseg_core.finetune_job", "JOB") == [sys.executable, "--finetune-job", "JOB"]
    assert module_command("skinseg_core.cli", "predict") == [sys.executable, "--cli", "predict"]
    with pytest.raises(ValueError, match="skinseg_core.finetune_job"):
        module_command("skinseg_core.report")


def test_run_hidden_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_hidden_command([]) is None
    assert run_hidden_command(["photo.jpg", "--finetune-job"]) is None  # only a first argument counts
    assert run_hidden_command(["--finetune-job"]) == EXIT_ERROR  # no job folder: usage, status 2
    assert "usage" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        run_hidden_command(["--cli", "--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"skinseg {skinseg_core.__version__}"


def test_finetune_process_starts_the_frozen_executable(tmp_path: Path, frozen: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[list[str], dict]] = []

    class FakePopen:
        def __init__(self, command: list[str], **kwargs: object) -> None:
            started.append((command, kwargs))

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    job = tmp_path / "job"
    FinetuneProcess(job).start(JobSpec(["photo.png"], "model.json"))
    command, kwargs = started[0]
    assert command == [sys.executable, "--finetune-job", str(job)]
    assert "PYTHONPATH" not in kwargs["env"]  # type: ignore[operator]  # the bundle finds its own modules
    assert (job / "job.json").exists()


def test_bundle_files_are_found_in_the_bundle_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    icons = tmp_path / "resources" / "icons"
    icons.mkdir(parents=True)
    for name in ("skinseg-512.png", "skinseg-16.png", "skinseg-64.png", "skinseg-large.png", "other-16.png"):
        (icons / name).write_bytes(b"")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.bundled_model_path() == tmp_path / "models" / "skinseg-bundled.json"
    assert paths.model_card_path() == tmp_path / "models" / "MODEL_CARD.md"
    assert paths.resources_dir() == tmp_path / "resources"
    assert [p.name for p in paths.app_icon_files()] == ["skinseg-16.png", "skinseg-64.png", "skinseg-512.png"]


def test_the_checkout_has_the_icon_in_every_size() -> None:
    assert paths.resources_dir() == REPO / "resources"
    assert [int(p.stem.split("-")[1]) for p in paths.app_icon_files()] == [16, 24, 32, 48, 64, 128, 256, 512]
    for name in ("skinseg.svg", "skinseg.ico", "skinseg.icns"):
        assert (REPO / "resources" / "icons" / name).is_file()


def _make_dist():
    spec = importlib.util.spec_from_file_location("make_dist", REPO / "build" / "make_dist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_version_is_written_once() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")  # (no tomllib before Python 3.11)
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "skinseg_core.__version__" }' in pyproject
    assert _make_dist().VERSION == skinseg_core.__version__
    assert "skinseg_core.__version__" in (REPO / "build" / "skinseg.spec").read_text(encoding="utf-8")


def test_debian_control_and_desktop_entry() -> None:
    make_dist = _make_dist()
    control = make_dist.control_file("amd64", 123456, ["libc6 (>= 2.34)", "libxcb1"])
    fields = dict(line.split(": ", 1) for line in control.splitlines() if line and not line.startswith(" "))
    assert fields["Package"] == "skinseg"
    assert fields["Version"] == skinseg_core.__version__
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "123456"
    assert fields["Depends"] == "libc6 (>= 2.34), libxcb1"
    continuation = [line for line in control.splitlines() if line.startswith(" ")]
    assert continuation and all(line.strip() for line in continuation)  # blank description lines are " ."
    entry = make_dist.desktop_entry().splitlines()
    assert entry[0] == "[Desktop Entry]"
    assert "Exec=skinseg-app %F" in entry and "Icon=skinseg" in entry and "Name=SkinSeg" in entry
    mime = next(line for line in entry if line.startswith("MimeType="))
    assert "image/jpeg;" in mime and "image/png;" in mime and "image/heic;" in mime
    assert make_dist.launcher("--cli") == '#!/bin/sh\nexec /opt/skinseg/skinseg-app --cli "$@"\n'
