"""Choice of compute device: `auto` prefers CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from skinseg_core.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """Turn a device name from the command line or the preferences into a `torch.device`.

    Raises DeviceError with advice when the device is absent, instead of failing later inside torch.
    """
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was requested but no CUDA GPU is usable here (torch "
                f"{torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). "
                "Use --device cpu or --device auto, or install a CUDA build of torch and an NVIDIA driver."
            )
        return torch.device(name)
    if name == "mps":
        if not _mps_available():
            raise DeviceError(
                "Apple MPS was requested but is not available on this machine. Use --device cpu or --device auto."
            )
        return torch.device("mps")
    raise DeviceError(f"Unknown device {name!r}. Choose one of: {', '.join(DEVICE_CHOICES)}.")


def describe_device(device: torch.device) -> str:
    """A short human description for status bars and logs, e.g. 'CPU · 2 threads' or 'CUDA · NVIDIA H100'."""
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU · {torch.get_num_threads()} threads"


def available_devices() -> tuple[str, ...]:
    """The device choices usable on this machine, in DEVICE_CHOICES order ("auto" and "cpu" always are)."""
    usable = []
    for name in DEVICE_CHOICES:
        try:
            resolve_device(name)
        except DeviceError:
            continue
        usable.append(name)
    return tuple(usable)
