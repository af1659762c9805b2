"""genreid's models from Python: the built-in musicnn taggers and genre
heads, or any model file trained with ``genreid train``.

``classify`` returns the records ``genreid classify --format json``
prints; ``embed`` returns a track embedding per input; ``tags`` a tagger's
tag probabilities. Inputs are paths (folders are walked), arrays (with
``sr``), or a list mixing both. Work runs in Rust, in parallel, with the
GIL released.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._progress import chunks, jobs
from ._validate import audio

__all__ = ["Model", "classify", "embed", "tags", "builtin_models", "DEFAULT_MODEL"]

DEFAULT_MODEL: str = _native.DEFAULT_MODEL

Input = Union[str, os.PathLike, np.ndarray]


def builtin_models() -> List[Tuple[str, str]]:
    """The built-in models as ``(name, description)``."""
    return _native.builtin_models()


def _inputs(inputs: Union[Input, Iterable[Input]]) -> List[Tuple[str, Any]]:
    """``[("path", str) | ("array", ndarray)]``, folders expanded in place."""
    if isinstance(inputs, (str, os.PathLike, np.ndarray)):
        inputs = [inputs]
    items: List[Tuple[str, Any]] = []
    for x in inputs:
        if isinstance(x, (str, os.PathLike)):
            path = os.fspath(x)
            if os.path.isdir(path):
                items += [("path", f) for f in _native.audio_files([path])]
            else:
                items.append(("path", path))
        else:
            items.append(("array", x))
    return items


class Model:
    """A model, loaded once and used for many calls.

    Parameters
    ----------
    spec : str
        A built-in name (``musicnn-gtzan``, ``msd-musicnn``, ``mtt-musicnn``,
        ``msd-vgg``, ``mtt-vgg``, ``gtzan57-logreg``), a model file written
        by ``genreid``, or several comma-separated (``a.genreid,b.genreid:2``)
        for a weighted ensemble.

    Raises
    ------
    genreid.ModelError
        No such built-in model or file, or the file is not a usable model.
    """

    def __init__(self, spec: Union[str, os.PathLike] = DEFAULT_MODEL):
        self._native = _native.NativeModel(os.fspath(spec))

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Model":
        """Loads a model file (or a built-in model by name)."""
        return cls(path)

    @property
    def labels(self) -> List[str]:
        """The labels of its verdicts, in the column order of ``predict_proba``."""
        return self._native.labels

    @property
    def tags(self) -> List[str]:
        """The tags a tagger reports (empty for other models)."""
        return self._native.tags

    @property
    def kind(self) -> str:
        """``classical``, ``tagger``, ``network`` or ``ensemble``."""
        return self._native.kind

    def __repr__(self) -> str:
        return f"genreid.Model({self._native.spec!r})"

    def classify(self, inputs: Union[Input, Iterable[Input]], *, sr: float = 22050, segments: bool = False,
                 overlap: float = 0.0, n_jobs: Optional[int] = None,
                 progress: Optional[bool] = None) -> List[Dict[str, Any]]:
        """One record per input, as ``genreid classify --format json`` prints.

        A record is ``{path, genre, vote, probabilities, tags,
        duration_seconds, warnings, segments?}``, or ``{path, error}`` for an
        input that could not be classified (arrays are named ``array[i]``).
        """
        items = _inputs(inputs)
        n = jobs(n_jobs)
        records: List[Optional[Dict[str, Any]]] = [None] * len(items)
        indexed = list(enumerate(items))
        for chunk in chunks(indexed, n, progress, "classify"):
            paths = [(i, x) for i, (kind, x) in chunk if kind == "path"]
            arrays = [(i, x) for i, (kind, x) in chunk if kind == "array"]
            if paths:
                out = self._native.classify_paths([p for _, p in paths], segments, float(overlap), n)
                for (i, _), text in zip(paths, out):
                    records[i] = json.loads(text)
            if arrays:
                ys = [audio("classify", y) for _, y in arrays]
                names = [f"array[{i}]" for i, _ in arrays]
                out = self._native.classify_arrays(ys, names, float(sr), segments, float(overlap), n)
                for (i, _), text in zip(arrays, out):
                    records[i] = json.loads(text)
        return [r for r in records if r is not None]

    def predict_proba(self, inputs: Union[Input, Iterable[Input]], *, sr: float = 22050,
                      n_jobs: Optional[int] = None) -> np.ndarray:
        """Probabilities ``[n_inputs, len(labels)]`` (float64), as scikit-learn's ``predict_proba``.

        Raises ``genreid.AudioError`` naming the first input that failed.
        """
        records = self.classify(inputs, sr=sr, n_jobs=n_jobs, progress=False)
        for r in records:
            if "error" in r:
                raise _native.AudioError(r["error"])
        labels = self.labels
        return np.array([[r["probabilities"][label] for label in labels] for r in records], dtype=np.float64)

    def predict(self, inputs: Union[Input, Iterable[Input]], *, sr: float = 22050,
                n_jobs: Optional[int] = None) -> List[str]:
        """The genre of each input (by mean probability over its segments)."""
        labels = self.labels
        return [labels[i] for i in self.predict_proba(inputs, sr=sr, n_jobs=n_jobs).argmax(axis=1)]

    def embed(self, inputs: Union[Input, Iterable[Input]], *, sr: float = 22050, layer: str = "penultimate",
              overlap: float = 0.0, errors: str = "raise", n_jobs: Optional[int] = None,
              progress: Optional[bool] = None) -> np.ndarray:
        """Track embeddings ``[n_inputs, dim]`` (float32): a tagger layer's mean over 3-s patches.

        ``layer`` is ``penultimate`` (musicnn's 200-wide embedding, the
        default), ``taggram``, ``mean_pool`` or ``max_pool``. ``errors="nan"``
        gives failed inputs a row of NaN instead of raising ``AudioError``.
        """
        if errors not in ("raise", "nan"):
            raise _native.ParameterError(f"errors must be 'raise' or 'nan', got {errors!r}")
        items = _inputs(inputs)
        n = jobs(n_jobs)
        rows: List[Optional[np.ndarray]] = [None] * len(items)
        indexed = list(enumerate(items))
        for chunk in chunks(indexed, n, progress, "embed"):
            for kind in ("path", "array"):
                part = [(i, x) for i, (k, x) in chunk if k == kind]
                if not part:
                    continue
                if kind == "path":
                    values, failed = self._native.embed_paths([p for _, p in part], layer, float(overlap), n)
                else:
                    ys = [audio("embed", y) for _, y in part]
                    values, failed = self._native.embed_arrays(ys, float(sr), layer, float(overlap), n)
                if failed and errors == "raise":
                    j, message = failed[0]
                    raise _native.AudioError(message if kind == "path" else f"array[{part[j][0]}]: {message}")
                for (i, _), row in zip(part, values):
                    rows[i] = row
        dims = {r.shape[0] for r in rows if r is not None and r.shape[0] > 0}
        dim = dims.pop() if dims else 0
        out = np.full((len(rows), dim), np.nan, dtype=np.float32)
        for i, r in enumerate(rows):
            if r is not None and r.shape[0] == dim:
                out[i] = r
        return out


_loaded: Dict[str, Model] = {}


def _model(model: Union[str, os.PathLike, Model]) -> Model:
    if isinstance(model, Model):
        return model
    key = os.fspath(model)
    if key not in _loaded:
        _loaded[key] = Model(key)
    return _loaded[key]


def classify(inputs: Union[Input, Iterable[Input]], model: Union[str, os.PathLike, Model] = DEFAULT_MODEL, *,
             sr: float = 22050, segments: bool = False, overlap: float = 0.0, n_jobs: Optional[int] = None,
             progress: Optional[bool] = None) -> List[Dict[str, Any]]:
    """Genre verdicts: the records of ``genreid classify --format json``.

    Parameters
    ----------
    inputs : path, array, or a list of them
        Audio files, folders (walked), or mono float arrays at ``sr``.
    model : str, path or Model
        A built-in name (default ``musicnn-gtzan``), a model file, or a
        loaded ``Model`` (loaded models are cached by name).
    segments : bool
        Add each segment's verdict (``segments``: start, end, genre, probabilities).
    overlap : float
        Seconds of overlap between a tagger's 3-s patches.

    Returns
    -------
    list of dict
        ``{path, genre, vote, probabilities, tags, duration_seconds,
        warnings, ...}`` per input, or ``{path, error}`` for a failed one.
    """
    return _model(model).classify(inputs, sr=sr, segments=segments, overlap=overlap, n_jobs=n_jobs,
                                  progress=progress)


def embed(inputs: Union[Input, Iterable[Input]], model: Union[str, os.PathLike, Model] = DEFAULT_MODEL, *,
          sr: float = 22050, layer: str = "penultimate", overlap: float = 0.0, errors: str = "raise",
          n_jobs: Optional[int] = None, progress: Optional[bool] = None,
          out: Optional[Union[str, os.PathLike]] = None) -> Any:
    """Track embeddings ``[n_inputs, dim]`` from a tagger (see ``Model.embed``).

    With ``out``, the embeddings go into a similarity library instead, as
    ``genreid embed PATHS --out OUT`` (files and folders only; see
    ``genreid.embed_library``), and the summary is returned.
    """
    if out is not None:
        from .similar import embed_library
        if isinstance(model, Model):
            raise _native.ParameterError("embed(out=...) takes a model name or file, not a loaded Model")
        if layer not in ("penultimate", "taggram", "mean_pool", "max_pool") or overlap != 0.0:
            raise _native.ParameterError("embed(out=...) takes a plain layer name and no overlap")
        return embed_library(inputs, out, model, layer=layer, n_jobs=n_jobs)
    return _model(model).embed(inputs, sr=sr, layer=layer, overlap=overlap, errors=errors, n_jobs=n_jobs,
                               progress=progress)


def tags(inputs: Union[Input, Iterable[Input]], model: Union[str, os.PathLike, Model] = "msd-musicnn", *,
         sr: float = 22050, top: Optional[int] = None, n_jobs: Optional[int] = None,
         progress: Optional[bool] = None) -> List[Dict[str, float]]:
    """Tag probabilities per input (``{tag: p}``, best first; ``top`` keeps the first ``top``).

    Raises ``genreid.AudioError`` naming the first input that failed.
    """
    out = []
    for r in _model(model).classify(inputs, sr=sr, n_jobs=n_jobs, progress=progress):
        if "error" in r:
            raise _native.AudioError(r["error"])
        ranked = sorted(r["tags"].items(), key=lambda kv: -kv[1])
        out.append(dict(ranked[:top] if top is not None else ranked))
    return out
