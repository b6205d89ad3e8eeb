"""How long the app's fine-tuning job takes on N corrected photos (issue 6: 15 photos in <= 3 minutes on 2 cores).

The photos of a folder with masks (default `../shared/data/clinical_fitz17k`) are copied into a scratch folder and
recorded as corrections of the model's predictions (as `finetune_gain.py` does); then the job the app starts runs on
them with the app's settings, and its wall time, epochs and held-out Jaccard (old -> new) are printed.

    .venv/bin/python benchmarks/finetune_time.py [--model FILE] [--photos 15] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from finetune_gain import corrected_copy  # noqa: E402

from skinseg_core.data import find_pairs  # noqa: E402
from skinseg_core.finetune_job import APP_SETTINGS, JobSpec, run_job  # noqa: E402
from skinseg_core.inference import Segmenter, resolve_model_path  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinical_fitz17k")
    parser.add_argument("--photos", type=int, default=15)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    model = resolve_model_path(args.model)
    pairs = find_pairs(args.data / "images", args.data / "masks")[: args.photos]
    with tempfile.TemporaryDirectory(prefix="skinseg-finetune-time-") as scratch:
        photos = corrected_copy(pairs, Path(scratch) / "photos", Segmenter(model, device=args.device))
        job = Path(scratch) / "job"
        JobSpec([str(p) for p in photos], str(model), APP_SETTINGS.to_dict(), device=args.device).write(job)
        started = time.perf_counter()
        code = run_job(job)
        seconds = time.perf_counter() - started
        events = [json.loads(line) for line in (job / "progress.jsonl").read_text().splitlines()]
    epochs = [e for e in events if e.get("event") == "epoch"]
    done = next((e for e in reversed(events) if e.get("event") in ("done", "finished", "result")), events[-1])
    print(json.dumps({"photos": len(photos), "exit_code": code, "seconds": round(seconds, 1), "epochs": len(epochs),
                      "last_event": done}, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main())
