"""Rhythm features (``librosa.feature.rhythm``)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from .. import _native
from .._validate import positive_int, require_default, unsupported

__all__ = ["tempo"]


def tempo(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    onset_envelope: Optional[np.ndarray] = None,
    tg: Optional[np.ndarray] = None,
    hop_length: int = 512,
    start_bpm: float = 120,
    std_bpm: float = 1.0,
    ac_size: float = 8.0,
    max_tempo: Optional[float] = 320.0,
    aggregate: Optional[Callable[..., Any]] = np.mean,
    prior: Any = None,
) -> np.ndarray:
    """Global tempo estimate in BPM, shape ``(1,)`` (``librosa.feature.rhythm.tempo``).

    Only librosa's defaults for the tempogram (``start_bpm=120``,
    ``std_bpm=1``, ``ac_size=8``, ``max_tempo=320``, ``aggregate=np.mean``).
    """
    if tg is not None:
        raise unsupported("feature.rhythm.tempo", "tg", "an array", "tg=None")
    if prior is not None:
        raise unsupported("feature.rhythm.tempo", "prior", prior, "prior=None")
    if aggregate is not np.mean:
        raise unsupported("feature.rhythm.tempo", "aggregate", aggregate, "aggregate=np.mean")
    for name, value, default in [("start_bpm", start_bpm, 120), ("std_bpm", std_bpm, 1.0), ("ac_size", ac_size, 8.0),
                                 ("max_tempo", max_tempo, 320.0)]:
        require_default("feature.rhythm.tempo", name, value, default)
    hop = positive_int("feature.rhythm.tempo", "hop_length", hop_length)
    if onset_envelope is None:
        from ..onset import onset_strength

        onset_envelope = onset_strength(y=y, sr=sr, hop_length=hop)
    env = np.ascontiguousarray(onset_envelope, dtype=np.float32)
    if env.ndim != 1:
        raise NotImplementedError(f"genreid.feature.rhythm.tempo: onset_envelope of shape {env.shape} (1-D only)")
    return np.array([_native.tempo(env, float(sr), hop)], dtype=np.float64)
