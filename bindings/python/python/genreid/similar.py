"""Music that sounds alike: a library of track embeddings, searched and walked.

>>> import genreid
>>> genreid.embed(["~/Music"], out="library.parquet")   # as `genreid embed`; re-runs add new files only
{'embedded': 1200, 'failed': 0, 'skipped': 0, 'errors': []}
>>> lib = genreid.Library("library.parquet")
>>> [n["path"] for n in lib.similar("song.mp3", k=3)]   # a file, or a track of the library
>>> lib.playlist("song.mp3", length=20, spread="artist")

Embeddings are musicnn's penultimate layer averaged over 3-s patches and
scaled to unit length, so similarity is cosine similarity; search is exact.
"""

import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _native

PathLike = Union[str, "os.PathLike[str]"]
Neighbour = Dict[str, Any]


def _paths(paths: Union[PathLike, Iterable[PathLike]]) -> List[str]:
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def embed_library(paths: Union[PathLike, Iterable[PathLike]], out: PathLike,
                  model: Optional[str] = _native.DEFAULT_MODEL, *, layer: str = "penultimate", pooling: str = "mean",
                  n_jobs: Optional[int] = None) -> Dict[str, Any]:
    """Adds the audio files under ``paths`` (files or folders) to the library ``out``.

    ``out`` is a ``.parquet`` file (rewritten atomically) or a folder of
    parts, with the rows of ``genreid embed --out``. Files already in it with
    the same size and modification time are skipped; changed ones are
    replaced. Returns ``{embedded, failed, skipped, errors: [(path, message)]}``;
    a file that fails is an error row and an entry in ``errors``, not an exception.
    """
    embedded, failed, skipped, errors = _native.embed_library(
        _paths(paths), os.fspath(out), None if model is None else os.fspath(model), layer, pooling, n_jobs)
    return {"embedded": embedded, "failed": failed, "skipped": skipped, "errors": errors}


class Library:
    """A library made by ``genreid embed`` (or ``embed_library``), loaded once."""

    def __init__(self, path: PathLike):
        self.path = os.fspath(path)
        self._native = _native.NativeLibrary(self.path)

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return repr(self._native)

    @property
    def paths(self) -> List[str]:
        """The tracks' paths."""
        return self._native.paths()

    @property
    def embedding(self) -> str:
        """How the embeddings were made (``layer/pooling/l2``)."""
        return self._native.embedding()

    def similar(self, queries: Union[PathLike, Sequence[PathLike], np.ndarray], k: int = 10
                ) -> Union[List[Neighbour], List[List[Neighbour]]]:
        """The ``k`` tracks most like each query, best first.

        A query is an audio file, a track of the library (left out of its own
        answer), or a row of a float32 array of embeddings made as the
        library's. Each neighbour is ``{rank, path, similarity, genre, artist,
        album, title, tags}``. One query gives one list; several, a list per query.
        """
        if k < 0:
            raise _native.ParameterError(f"k must be non-negative, got {k}")
        if isinstance(queries, np.ndarray):
            vectors = np.ascontiguousarray(queries, dtype=np.float32)
            single = vectors.ndim == 1
            answer = json.loads(self._native.similar_vectors(np.atleast_2d(vectors), int(k)))
        else:
            single = isinstance(queries, (str, os.PathLike))
            answer = json.loads(self._native.similar(_paths(queries), int(k)))
        return answer[0] if single else answer

    def playlist(self, seeds: Union[PathLike, Sequence[PathLike]], length: int = 20, *, anchor: float = 0.25,
                 spread: Optional[str] = None, spread_window: int = 3) -> List[str]:
        """A playlist of ``length`` paths that moves smoothly from the seeds (as ``genreid playlist``).

        Each next track is the unplayed one nearest the last, pulled towards
        the seeds by ``anchor``; ``spread="artist"`` (or ``"album"``) keeps one
        artist out of the ``spread_window`` tracks before it, where tags name them.
        """
        if length < 1:
            raise _native.ParameterError(f"length must be at least 1, got {length}")
        rows = self._native.playlist(_paths(seeds), int(length), float(anchor), spread or "none", int(spread_window))
        return [path for path, _ in rows]


_libraries: Dict[str, Any] = {}


def similar(queries: Union[PathLike, Sequence[PathLike], np.ndarray], index: PathLike, k: int = 10
            ) -> Union[List[Neighbour], List[List[Neighbour]]]:
    """The ``k`` tracks of the library ``index`` most like each query (see ``Library.similar``).

    The library is loaded once per path and modification time.
    """
    path = os.fspath(index)
    key = f"{path}\0{os.stat(path).st_mtime_ns}" if os.path.exists(path) else path
    library = _libraries.get(key)
    if library is None:
        library = _libraries[key] = Library(path)
    return library.similar(queries, k)
