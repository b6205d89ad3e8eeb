"""The frozen app's entry point (the script PyInstaller freezes as `skinseg-app`).

    skinseg-app [PHOTO_OR_FOLDER...] [--model FILE] ...   the desktop app (app.__main__)
    skinseg-app --cli COMMAND ...                          the `skinseg` command line (the .deb's /usr/bin/skinseg)
    skinseg-app --finetune-job JOB_DIR                     the app's fine-tuning child process (skinseg_core.frozen)
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen executable started again by multiprocessing (DataLoader workers where processes are spawned, i.e. on
    # Windows and macOS) must run the worker, not the app.
    multiprocessing.freeze_support()

    from skinseg_core.frozen import run_hidden_command

    status = run_hidden_command(sys.argv[1:])
    if status is None:
        from app.__main__ import main

        status = main()
    sys.exit(status)
