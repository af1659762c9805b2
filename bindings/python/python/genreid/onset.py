"""Onset detection (``librosa.onset``)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from . import _native
from ._validate import audio, no_extra, positive_int, require_default, spectrogram, unsupported

__all__ = ["onset_strength"]


def onset_strength(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    lag: int = 1,
    max_size: int = 1,
    ref: Optional[np.ndarray] = None,
    detrend: bool = False,
    center: bool = True,
    feature: Optional[Callable] = None,
    aggregate: Any = None,
    **kwargs: Any,
) -> np.ndarray:
    """Spectral-flux onset strength envelope ``(n_frames,)`` (``librosa.onset.onset_strength``).

    ``S`` is a log-power mel spectrogram; without it, librosa's 128-band
    mel spectrogram of ``y`` in dB. ``aggregate`` is ``None`` (mean) or
    ``np.median``; ``kwargs`` may set ``n_fft`` and ``hop_length``.
    """
    for name, value, default in [("lag", lag, 1), ("max_size", max_size, 1), ("detrend", detrend, False),
                                 ("center", center, True)]:
        require_default("onset.onset_strength", name, value, default)
    if ref is not None:
        raise unsupported("onset.onset_strength", "ref", "an array", "ref=None")
    if feature is not None:
        raise unsupported("onset.onset_strength", "feature", feature, "feature=None (melspectrogram)")
    if aggregate is None or aggregate is np.mean:
        by = "mean"
    elif aggregate is np.median:
        by = "median"
    else:
        raise unsupported("onset.onset_strength", "aggregate", aggregate, "None, np.mean or np.median")
    n_fft = positive_int("onset.onset_strength", "n_fft", kwargs.pop("n_fft", 2048))
    hop = positive_int("onset.onset_strength", "hop_length", kwargs.pop("hop_length", 512))
    no_extra("onset.onset_strength", kwargs)
    if S is not None:
        return _native.onset_strength(None, spectrogram("onset.onset_strength", S), float(sr), n_fft, hop, by)
    return _native.onset_strength(audio("onset.onset_strength", y), None, float(sr), n_fft, hop, by)
