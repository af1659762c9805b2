"""``features_table``: the CLI's feature tables as a ``pandas.DataFrame``."""

from __future__ import annotations

import os
import warnings
from typing import Iterable, Optional, Union

import numpy as np

from . import _native
from ._progress import chunks, jobs

__all__ = ["features_table", "FeatureWarning"]


class FeatureWarning(UserWarning):
    """A file that failed, or a row with values that are not numbers."""


def features_table(
    paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]],
    set: str = "gtzan57",
    segment: Optional[float] = None,
    n_jobs: Optional[int] = None,
    *,
    sr: Optional[float] = None,
    duration: Optional[float] = None,
    segment_hop: Optional[float] = None,
    progress: Optional[bool] = None,
    errors: str = "warn",
):
    """Feature table of audio files, computed in parallel in Rust.

    Parameters
    ----------
    paths : path or iterable of paths
        Files, or folders walked recursively for audio files.
    set : {"gtzan57", "fma518"}
        The 57 columns of GTZAN's ``features_30_sec.csv``, or FMA's 518.
    segment : float or None
        One row per segment of this many seconds (GTZAN's 3-s table: 3).
    n_jobs : int or None
        Worker threads; ``None`` or ``-1`` uses every core.
    sr : float or None
        Analysis rate; default 22050 for gtzan57, each file's own for fma518.
    duration : float or None
        Use only the first ``duration`` seconds of each file.
    segment_hop : float or None
        Seconds between segment starts (default: ``segment``, no overlap).
    progress : bool or None
        A tqdm bar (default: when tqdm is installed and there is much to do).
    errors : {"warn", "ignore", "raise"}
        What a file that cannot be read does: a ``FeatureWarning`` naming
        it (its rows are left out), nothing, or ``genreid.AudioError``.

    Returns
    -------
    pandas.DataFrame
        Columns ``filename``, ``length``, the feature columns, ``label``
        (the parent folder's name), as ``genreid features`` writes them.
        ``df.attrs["errors"]`` lists ``(path, message)`` of failed files.
    """
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("genreid.features_table returns a pandas.DataFrame: pip install pandas") from e
    if errors not in ("warn", "ignore", "raise"):
        raise _native.ParameterError(f"errors must be 'warn', 'ignore' or 'raise', got {errors!r}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = _native.audio_files([os.fspath(p) for p in paths])
    columns = _native.table_columns(set)
    n = jobs(n_jobs)
    names, lengths, labels, blocks, failed = [], [], [], [], []
    for chunk in chunks(files, n, progress, "features"):
        nm, ln, lb, values, errs, notes = _native.table_rows(
            chunk, set, None if sr is None else float(sr), duration, segment, segment_hop, n
        )
        if errs and errors == "raise":
            raise _native.AudioError(errs[0][1])
        names += nm
        lengths += ln
        labels += lb
        blocks.append(values)
        failed += errs
        if errors == "warn":
            for path, message in errs:
                warnings.warn(message, FeatureWarning, stacklevel=2)
            for note in notes:
                warnings.warn(note, FeatureWarning, stacklevel=2)
    values = np.concatenate(blocks) if blocks else np.zeros((0, len(columns)))
    frame = pd.DataFrame(values, columns=columns)
    frame.insert(0, "filename", names)
    frame.insert(1, "length", np.asarray(lengths, dtype=np.int64))
    frame["label"] = labels
    frame.attrs["errors"] = failed
    return frame
