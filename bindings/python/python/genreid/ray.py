"""Batch inference on Ray Data, with the rows of ``genreid classify --out``.

>>> import genreid.ray
>>> rows = genreid.ray.classify("/music", concurrency=4)    # a ray.data.Dataset
>>> genreid.ray.classify("/music", out="/results/")        # or Parquet files

Each row has the versioned schema of the command line's batch runs
(``genreid.classify/1``: path, relative_path, size, modified,
content_sha256, model, model_version, genre, vote, probabilities, tags,
duration_seconds, warnings, segments?, embedding?, error), so Parquet
written here and by ``genreid classify --out`` can be read as one dataset.
A file that fails is a row with its ``error``, never a failed task.

:class:`Classifier` is the callable class for ``Dataset.map_batches``: the
model is loaded once per actor, and each batch of paths (a ``path`` column,
``relative_path`` optional) comes back as a ``pyarrow.Table`` of rows,
classified on the actor's ``n_jobs`` threads with the GIL released.
:func:`classify_batch` is the same function for one ``pyarrow.Table``
(what Spark's ``mapInArrow`` and Dask's ``map_partitions`` hand over;
only Ray is tested here).
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Union

from . import _native
from .models import DEFAULT_MODEL

__all__ = ["Classifier", "classify", "classify_batch", "paths_table"]

Paths = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - an environment without pyarrow
        raise ImportError("genreid.ray needs pyarrow: pip install 'genreid[ray]'") from e
    return pa, pq


def paths_table(paths: Paths) -> Any:
    """The audio files under ``paths`` as a ``pyarrow.Table`` of ``path``
    and ``relative_path`` (folders walked and sorted, each file's path
    relative to the folder it was found in; a file given alone: its name)."""
    pa, _ = _pyarrow()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found = _native.found_audio_files([os.fspath(p) for p in paths])
    return pa.table({"path": [p for p, _ in found], "relative_path": [r for _, r in found]})


def classify_batch(
    model: "_native.NativeModel",
    batch: Any,
    *,
    segments: bool = False,
    overlap: float = 0.0,
    embedding: Optional[str] = None,
    n_jobs: Optional[int] = None,
) -> Any:
    """The rows of one batch of paths as a ``pyarrow.Table``.

    Parameters
    ----------
    model : genreid._native.NativeModel
        A loaded model (``genreid.Model(...)._native``).
    batch : pyarrow.Table, pandas.DataFrame or dict of columns
        A ``path`` column, and optionally ``relative_path``.
    segments, overlap, embedding, n_jobs
        As ``genreid classify --segments --overlap --embedding -j``.
    """
    pa, pq = _pyarrow()
    if not isinstance(batch, pa.Table):
        batch = pa.Table.from_pandas(batch) if hasattr(batch, "to_numpy") and hasattr(batch, "columns") else pa.table(batch)
    if "path" not in batch.column_names:
        raise TypeError(f"a batch needs a 'path' column (columns: {', '.join(batch.column_names)})")
    paths = [str(p) for p in batch.column("path").to_pylist()]
    if "relative_path" in batch.column_names:
        relative = [str(r) for r in batch.column("relative_path").to_pylist()]
    else:
        relative = [os.path.basename(p) for p in paths]
    data = model.batch_rows(list(zip(paths, relative)), segments, float(overlap), embedding, n_jobs)
    return pq.read_table(pa.BufferReader(data))


class Classifier:
    """The callable class for ``ray.data.Dataset.map_batches``.

    Parameters
    ----------
    model : str
        A built-in model name or a model file (as ``genreid classify --model``).
    segments : bool
        Add each row's segment timeline.
    overlap : float
        Overlap of a tagger's 3-s patches, in seconds.
    embedding : str, optional
        Add each track's embedding from this tagger layer
        (``penultimate``, ``taggram``, ``mean_pool``, ``max_pool``).
    n_jobs : int, optional
        Threads per actor (default: the actor's CPUs as Ray reports them, else 1).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        segments: bool = False,
        overlap: float = 0.0,
        embedding: Optional[str] = None,
        n_jobs: Optional[int] = None,
    ) -> None:
        self._model = _native.NativeModel(model)
        self._options = dict(segments=segments, overlap=overlap, embedding=embedding, n_jobs=n_jobs or _actor_cpus())

    def __call__(self, batch: Any) -> Any:
        return classify_batch(self._model, batch, **self._options)


def _actor_cpus() -> int:
    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
        return max(1, int(cpus))
    except Exception:  # not inside a Ray worker
        return 1


def classify(
    paths_or_dataset: Any,
    out: Optional[str] = None,
    *,
    model: str = DEFAULT_MODEL,
    segments: bool = False,
    overlap: float = 0.0,
    embedding: Optional[str] = None,
    concurrency: int = 1,
    num_cpus: float = 1,
    batch_size: int = 16,
) -> Any:
    """Classifies files on Ray Data: a ``Dataset`` of rows, or Parquet under ``out``.

    Parameters
    ----------
    paths_or_dataset : str, path, list of them, or ray.data.Dataset
        Files and folders (walked), or a dataset with a ``path`` column
        (``relative_path`` optional).
    out : str, optional
        A folder (local or any filesystem Ray writes to) for Parquet files;
        ``None`` returns the dataset unwritten.
    model, segments, overlap, embedding
        As :class:`Classifier`.
    concurrency : int
        Actors, each holding the model once.
    num_cpus : float
        CPUs per actor (its thread count).
    batch_size : int
        Files per batch handed to an actor.
    """
    import ray.data

    if isinstance(paths_or_dataset, ray.data.Dataset):
        dataset = paths_or_dataset
    else:
        # A block per batch, so every actor gets work from the start (made
        # here: a repartition task would wait for CPUs the actors hold).
        table = paths_table(paths_or_dataset)
        step = max(1, batch_size)
        dataset = ray.data.from_arrow([table.slice(i, step) for i in range(0, table.num_rows, step)])
    rows = dataset.map_batches(
        Classifier,
        fn_constructor_kwargs=dict(
            model=model, segments=segments, overlap=overlap, embedding=embedding, n_jobs=max(1, int(num_cpus))
        ),
        batch_size=batch_size,
        batch_format="pyarrow",
        concurrency=concurrency,
        num_cpus=num_cpus,
    )
    if out is None:
        return rows
    rows.write_parquet(out)
    return None
