"""Building an export job from the app's state; the writing itself is skinseg_core.export, run by a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skinseg_core.export import ExportItem, ExportOptions, ExportProgress, export_masks

from app.export_dialog import MASKS_FOLDER


@dataclass(frozen=True)
class ExportJob:
    groups: list[tuple[ExportOptions, list[ExportItem]]]

    @property
    def total(self) -> int:
        return sum(len(items) for _, items in self.groups)

    @property
    def folders(self) -> list[Path]:
        return [options.out_dir for options, _ in self.groups]


def build_job(
    photos: Sequence[tuple[Path, Callable[[], np.ndarray], float]],
    out_dir: Path | None,
    formats: dict[str, bool],
    model: dict[str, str],
) -> ExportJob:
    """photos: (photo, a function giving its bool [H, W] mask, threshold). out_dir None: a `masks` folder beside
    each photo's folder."""
    groups: dict[Path, list[ExportItem]] = {}
    for photo, mask, threshold in photos:
        target = out_dir if out_dir is not None else photo.parent / MASKS_FOLDER
        groups.setdefault(target, []).append(ExportItem(photo, mask, threshold))
    return ExportJob(
        [(ExportOptions(out_dir=folder, model=dict(model), **formats), items) for folder, items in groups.items()]
    )


def run_export(job: ExportJob) -> Iterator[ExportProgress]:
    """Worker generator: all groups in turn, progress counted over the whole job."""
    done = 0
    for options, items in job.groups:
        for progress in export_masks(items, options):
            if progress.photo is not None:
                done += 1
                yield ExportProgress(done, job.total, progress.photo)
    return job.folders
