"""Beat tracking (``librosa.beat``)."""

from __future__ import annotations

from typing import Any, Optional, Tuple, Union

import numpy as np

from . import _native
from ._validate import positive_int, require_default, unsupported

__all__ = ["beat_track"]


def beat_track(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    onset_envelope: Optional[np.ndarray] = None,
    hop_length: int = 512,
    start_bpm: float = 120.0,
    tightness: float = 100,
    trim: bool = True,
    bpm: Optional[float] = None,
    prior: Any = None,
    units: str = "frames",
    sparse: bool = True,
) -> Tuple[Union[float, np.ndarray], np.ndarray]:
    """Dynamic-programming beat tracker (``librosa.beat.beat_track``).

    Returns
    -------
    tempo : np.ndarray [shape=(1,)]
        Estimated tempo in BPM (the float 0.0 when the envelope has no onsets, as librosa).
    beats : np.ndarray
        Beat positions in ``units`` (``"frames"``, ``"samples"`` or ``"time"``).
    """
    for name, value, default in [("start_bpm", start_bpm, 120.0), ("tightness", tightness, 100), ("trim", trim, True),
                                 ("sparse", sparse, True)]:
        require_default("beat.beat_track", name, value, default)
    if bpm is not None:
        raise unsupported("beat.beat_track", "bpm", bpm, "bpm=None (estimated)")
    if prior is not None:
        raise unsupported("beat.beat_track", "prior", prior, "prior=None")
    if units not in ("frames", "samples", "time"):
        from ._native import ParameterError

        raise ParameterError(f"genreid.beat.beat_track: invalid units={units!r}")
    hop = positive_int("beat.beat_track", "hop_length", hop_length)
    if onset_envelope is None:
        from .onset import onset_strength

        onset_envelope = onset_strength(y=y, sr=sr, hop_length=hop, aggregate=np.median)
    env = np.ascontiguousarray(onset_envelope, dtype=np.float32)
    if env.ndim != 1:
        raise NotImplementedError(f"genreid.beat.beat_track: onset_envelope of shape {env.shape} (1-D only)")
    if not env.any():
        # librosa's answer for an envelope without onsets (silence, a steady tone).
        return 0.0, np.array([], dtype=int)
    bpm_found, beats = _native.beat_track(env, float(sr), hop)
    tempo = np.array([bpm_found], dtype=np.float64)
    if units == "samples":
        return tempo, beats * hop
    if units == "time":
        return tempo, beats * hop / float(sr)
    return tempo, beats
