"""Running SkinSeg's own modules as programs, from a source checkout and from a frozen (PyInstaller) bundle.

From source, a child process is `python -m MODULE ARGS`. A frozen bundle has no Python interpreter: `sys.executable`
is the app itself, which cannot run `-m`. So the bundle's executable accepts a hidden first argument per module
(`skinseg-app --finetune-job JOB_DIR`, `skinseg-app --cli predict ...`) and its entry point (build/skinseg_entry.py)
hands such a command line to `run_hidden_command` before anything starts Qt.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# hidden first argument of the frozen executable -> the module whose main(argv) it runs
HIDDEN_COMMANDS = {
    "--finetune-job": "skinseg_core.finetune_job",
    "--cli": "skinseg_core.cli",
}


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def module_command(module: str, *args: str) -> list[str]:
    """The command line that runs `module`'s main() with `args` in a new process, frozen or not."""
    if not is_frozen():
        return [sys.executable, "-m", module, *args]
    for flag, name in HIDDEN_COMMANDS.items():
        if name == module:
            return [sys.executable, flag, *args]
    raise ValueError(f"{module} cannot be run from a frozen SkinSeg; known modules: {sorted(HIDDEN_COMMANDS.values())}")


def run_hidden_command(argv: Sequence[str]) -> int | None:
    """Run the module a hidden first argument names and return its exit status; None when argv[0] is not one."""
    if not argv or argv[0] not in HIDDEN_COMMANDS:
        return None
    module = importlib.import_module(HIDDEN_COMMANDS[argv[0]])
    return int(module.main(list(argv[1:])) or 0)
