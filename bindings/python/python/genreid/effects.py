"""Harmonic/percussive separation (``librosa.effects``)."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import _native
from ._validate import audio, require_default, unsupported

__all__ = ["hpss", "harmonic", "percussive"]


def _check(function: str, kernel_size: Any, power: float, mask: bool, margin: Any, n_fft: int,
           hop_length: Optional[int], win_length: Optional[int], window: Any, center: bool, pad_mode: Any) -> int:
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2 or kernel_size[0] != kernel_size[1]:
            raise unsupported(function, "kernel_size", kernel_size, "one kernel size for both directions")
        kernel_size = kernel_size[0]
    for name, value, default in [("power", power, 2.0), ("mask", mask, False), ("margin", margin, 1.0),
                                 ("n_fft", n_fft, 2048), ("window", window, "hann"), ("center", center, True),
                                 ("pad_mode", pad_mode, "constant")]:
        require_default(function, name, value, default)
    if hop_length not in (None, 512):
        raise unsupported(function, "hop_length", hop_length, "hop_length=None (512)")
    if win_length not in (None, 2048):
        raise unsupported(function, "win_length", win_length, "win_length=None (2048)")
    return int(kernel_size)


def hpss(
    y: np.ndarray,
    *,
    kernel_size: Any = 31,
    power: float = 2.0,
    mask: bool = False,
    margin: Any = 1.0,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
) -> Tuple[np.ndarray, np.ndarray]:
    """Harmonic and percussive waveforms (``librosa.effects.hpss``), each like ``y``."""
    k = _check("effects.hpss", kernel_size, power, mask, margin, n_fft, hop_length, win_length, window, center,
               pad_mode)
    return _native.hpss(audio("effects.hpss", y), k)


def harmonic(y: np.ndarray, **kwargs: Any) -> np.ndarray:
    """The harmonic part of ``y`` (``librosa.effects.harmonic``)."""
    return hpss(y, **kwargs)[0]


def percussive(y: np.ndarray, **kwargs: Any) -> np.ndarray:
    """The percussive part of ``y`` (``librosa.effects.percussive``)."""
    return hpss(y, **kwargs)[1]
