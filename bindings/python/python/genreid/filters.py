"""Filterbanks (``librosa.filters``)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _native
from ._validate import positive_int, unsupported

__all__ = ["mel"]


def _slaney(function: str, norm: Any) -> bool:
    if norm == "slaney":
        return True
    if norm is None:
        return False
    raise unsupported(function, "norm", norm, "norm='slaney' or None")


def mel(
    *,
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Any = "slaney",
    dtype: Any = np.float32,
) -> np.ndarray:
    """Mel filterbank ``[n_mels, 1 + n_fft/2]`` (``librosa.filters.mel``), float32."""
    if np.dtype(dtype) != np.float32:
        raise unsupported("filters.mel", "dtype", dtype, "dtype=np.float32")
    return _native.mel_filters(float(sr), positive_int("filters.mel", "n_fft", n_fft),
                               positive_int("filters.mel", "n_mels", n_mels), float(fmin),
                               None if fmax is None else float(fmax), bool(htk), _slaney("filters.mel", norm))
