"""Work in chunks, with a ``tqdm`` progress bar when tqdm is installed."""

from __future__ import annotations

import os
from typing import Callable, Iterator, List, Optional, Sequence, TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], n_jobs: Optional[int], progress: Optional[bool], what: str) -> Iterator[List[T]]:
    """``items`` in chunks a few times the worker count, advancing a bar after each."""
    workers = n_jobs or os.cpu_count() or 1
    size = max(4 * workers, 8)
    bar = None
    if progress is not False and len(items) > size:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc=what, unit="file")
        except ImportError:
            if progress:
                raise
    try:
        for start in range(0, len(items), size):
            chunk = list(items[start:start + size])
            yield chunk
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def jobs(n_jobs: Optional[int]) -> Optional[int]:
    """joblib's convention: ``None`` or ``-1`` means all cores."""
    if n_jobs is None or n_jobs == -1:
        return None
    if not isinstance(n_jobs, int) or n_jobs < 1:
        from ._native import ParameterError

        raise ParameterError(f"n_jobs must be a positive integer, -1 or None, got {n_jobs!r}")
    return n_jobs


