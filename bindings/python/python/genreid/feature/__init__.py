"""Spectral and temporal features (``librosa.feature``), with librosa 0.11's
names, keyword arguments, defaults, shapes and (for float32 audio) dtypes.

Outputs have librosa's dtypes for float32 audio: float32, but float64 for
``tonnetz``, ``spectral_centroid``, ``spectral_bandwidth``,
``spectral_rolloff``, ``spectral_contrast`` and ``zero_crossing_rate``,
as librosa returns them.

Every function takes ``y`` (a mono float32 signal) or a precomputed
spectrogram ``S`` where librosa does. Arguments genreid does not implement
raise ``NotImplementedError`` naming them.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .. import _native
from .._validate import audio, no_extra, positive_int, require_default, spectrogram, unsupported
from ..filters import _slaney
from . import rhythm
from .rhythm import tempo

__all__ = [
    "melspectrogram", "mfcc", "chroma_stft", "chroma_cqt", "chroma_cens", "tonnetz",
    "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_contrast",
    "spectral_flatness", "zero_crossing_rate", "rms", "rhythm", "tempo",
]


def _spectrogram(function: str, y: Any, S: Any, n_fft: int, hop_length: int, win_length: Optional[int],
                 window: Any, center: bool, pad_mode: Any, power: float) -> tuple:
    """librosa's ``_spectrogram``: ``S`` as given (its ``n_fft`` inferred), or ``|STFT(y)|**power``."""
    if S is not None:
        S = spectrogram(function, S)
        return S, 2 * (S.shape[0] - 1)
    n_fft = positive_int(function, "n_fft", n_fft)
    hop = positive_int(function, "hop_length", hop_length)
    win = positive_int(function, "win_length", win_length) or n_fft
    if not (isinstance(window, str) and window in ("hann", "hanning")):
        raise unsupported(function, "window", window, "window='hann'")
    if center and pad_mode != "constant":
        raise unsupported(function, "pad_mode", pad_mode, "pad_mode='constant'")
    return _native.spectrogram(audio(function, y), n_fft, hop, win, bool(center), float(power)), n_fft


def _mel_options(function: str, kwargs: dict) -> tuple:
    n_mels = positive_int(function, "n_mels", kwargs.pop("n_mels", 128))
    fmin = float(kwargs.pop("fmin", 0.0))
    fmax = kwargs.pop("fmax", None)
    htk = bool(kwargs.pop("htk", False))
    slaney = _slaney(function, kwargs.pop("norm", "slaney"))
    dtype = kwargs.pop("dtype", np.float32)
    if np.dtype(dtype) != np.float32:
        raise unsupported(function, "dtype", dtype, "dtype=np.float32")
    no_extra(function, kwargs)
    return n_mels, fmin, None if fmax is None else float(fmax), htk, slaney


def melspectrogram(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    power: float = 2.0,
    **kwargs: Any,
) -> np.ndarray:
    """Mel-scaled spectrogram ``[n_mels, n_frames]`` (``librosa.feature.melspectrogram``).

    ``kwargs`` are ``filters.mel``'s: ``n_mels=128``, ``fmin=0.0``,
    ``fmax=None``, ``htk=False``, ``norm="slaney"``.
    """
    n_mels, fmin, fmax, htk, slaney = _mel_options("feature.melspectrogram", dict(kwargs))
    spec, n_fft = _spectrogram("feature.melspectrogram", y, S, n_fft, hop_length, win_length, window, center,
                               pad_mode, power)
    return _native.mel_apply(spec, float(sr), n_fft, n_mels, fmin, fmax, htk, slaney)


def mfcc(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_mfcc: int = 20,
    dct_type: int = 2,
    norm: Optional[str] = "ortho",
    lifter: float = 0,
    mel_norm: Any = "slaney",
    **kwargs: Any,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients ``[n_mfcc, n_frames]`` (``librosa.feature.mfcc``).

    ``S`` is a log-power mel spectrogram; without it, ``power_to_db`` of
    ``melspectrogram(y=y, sr=sr, **kwargs)`` (ref 1.0, top_db 80) is used.
    Only the orthonormal DCT-II without liftering is supported.
    """
    require_default("feature.mfcc", "dct_type", dct_type, 2)
    require_default("feature.mfcc", "norm", norm, "ortho")
    require_default("feature.mfcc", "lifter", lifter, 0)
    if S is None:
        from ..core import power_to_db

        S = power_to_db(melspectrogram(y=y, sr=sr, norm=mel_norm, **kwargs))
    else:
        no_extra("feature.mfcc", kwargs)
    return _native.mfcc_from_log_mel(spectrogram("feature.mfcc", S), positive_int("feature.mfcc", "n_mfcc", n_mfcc))


def chroma_stft(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    norm: Optional[float] = np.inf,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    tuning: Optional[float] = None,
    n_chroma: int = 12,
    **kwargs: Any,
) -> np.ndarray:
    """Chromagram from a power spectrogram ``[n_chroma, n_frames]`` (``librosa.feature.chroma_stft``).

    ``tuning=None`` estimates the tuning as librosa does; only ``norm=np.inf``.
    """
    require_default("feature.chroma_stft", "norm", norm, np.inf)
    no_extra("feature.chroma_stft", kwargs)
    spec, _ = _spectrogram("feature.chroma_stft", y, S, n_fft, hop_length, win_length, window, center, pad_mode, 2.0)
    return _native.chroma_stft(spec, float(sr), positive_int("feature.chroma_stft", "n_chroma", n_chroma),
                               None if tuning is None else float(tuning))


def _cqt_defaults(function: str, C: Any, hop_length: int, fmin: Any, tuning: Any, n_chroma: int, n_octaves: int,
                  bins_per_octave: Any, cqt_mode: str, window: Any, extra: dict) -> None:
    if C is not None:
        raise unsupported(function, "C", "an array", "C=None (genreid computes the CQT from y)")
    for name, value, default in [("hop_length", hop_length, 512), ("fmin", fmin, None), ("tuning", tuning, None),
                                 ("n_chroma", n_chroma, 12), ("n_octaves", n_octaves, 7),
                                 ("bins_per_octave", bins_per_octave, 36), ("cqt_mode", cqt_mode, "full"),
                                 ("window", window, None)] + [(k, v, d) for k, (v, d) in extra.items()]:
        require_default(function, name, value, default)


def chroma_cqt(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    C: Optional[np.ndarray] = None,
    hop_length: int = 512,
    fmin: Optional[float] = None,
    norm: Optional[float] = np.inf,
    threshold: float = 0.0,
    tuning: Optional[float] = None,
    n_chroma: int = 12,
    n_octaves: int = 7,
    window: Optional[np.ndarray] = None,
    bins_per_octave: Optional[int] = 36,
    cqt_mode: str = "full",
) -> np.ndarray:
    """Constant-Q chromagram ``[12, n_frames]`` (``librosa.feature.chroma_cqt``), librosa's defaults only."""
    _cqt_defaults("feature.chroma_cqt", C, hop_length, fmin, tuning, n_chroma, n_octaves, bins_per_octave, cqt_mode,
                  window, {"norm": (norm, np.inf), "threshold": (threshold, 0.0)})
    return _native.chroma_cqt(audio("feature.chroma_cqt", y), float(sr))


def chroma_cens(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    C: Optional[np.ndarray] = None,
    hop_length: int = 512,
    fmin: Optional[float] = None,
    tuning: Optional[float] = None,
    n_chroma: int = 12,
    n_octaves: int = 7,
    bins_per_octave: int = 36,
    cqt_mode: str = "full",
    window: Optional[np.ndarray] = None,
    norm: Optional[float] = 2,
    win_len_smooth: Optional[int] = 41,
    smoothing_window: Any = "hann",
) -> np.ndarray:
    """Chroma energy normalised statistics ``[12, n_frames]`` (``librosa.feature.chroma_cens``), defaults only."""
    _cqt_defaults("feature.chroma_cens", C, hop_length, fmin, tuning, n_chroma, n_octaves, bins_per_octave, cqt_mode,
                  window, {"norm": (norm, 2), "win_len_smooth": (win_len_smooth, 41),
                           "smoothing_window": (smoothing_window, "hann")})
    return _native.chroma_cens(audio("feature.chroma_cens", y), float(sr))


def tonnetz(*, y: Optional[np.ndarray] = None, sr: float = 22050, chroma: Optional[np.ndarray] = None,
            **kwargs: Any) -> np.ndarray:
    """Tonal centroid features ``[6, n_frames]`` from ``chroma_cqt`` (``librosa.feature.tonnetz``)."""
    if chroma is not None:
        raise unsupported("feature.tonnetz", "chroma", "an array", "chroma=None (computed from y)")
    if kwargs:
        raise unsupported("feature.tonnetz", next(iter(kwargs)), kwargs[next(iter(kwargs))],
                          "chroma_cqt's defaults")
    return _native.tonnetz(audio("feature.tonnetz", y), float(sr)).astype(np.float64)


def spectral_centroid(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    freq: Optional[np.ndarray] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
) -> np.ndarray:
    """Spectral centroid ``[1, n_frames]`` (``librosa.feature.spectral_centroid``)."""
    if freq is not None:
        raise unsupported("feature.spectral_centroid", "freq", "an array", "freq=None (FFT bin frequencies)")
    spec, n_fft = _spectrogram("feature.spectral_centroid", y, S, n_fft, hop_length, win_length, window, center,
                               pad_mode, 1.0)
    return _native.spectral_centroid(spec, float(sr), n_fft).astype(np.float64)


def spectral_bandwidth(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    freq: Optional[np.ndarray] = None,
    centroid: Optional[np.ndarray] = None,
    norm: bool = True,
    p: float = 2,
) -> np.ndarray:
    """p-th order spectral bandwidth ``[1, n_frames]`` (``librosa.feature.spectral_bandwidth``)."""
    if freq is not None:
        raise unsupported("feature.spectral_bandwidth", "freq", "an array", "freq=None")
    require_default("feature.spectral_bandwidth", "norm", norm, True)
    spec, n_fft = _spectrogram("feature.spectral_bandwidth", y, S, n_fft, hop_length, win_length, window, center,
                               pad_mode, 1.0)
    c = None if centroid is None else spectrogram("feature.spectral_bandwidth", centroid, "centroid")
    return _native.spectral_bandwidth(spec, float(sr), n_fft, float(p), c).astype(np.float64)


def spectral_rolloff(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    freq: Optional[np.ndarray] = None,
    roll_percent: float = 0.85,
) -> np.ndarray:
    """Roll-off frequency ``[1, n_frames]`` (``librosa.feature.spectral_rolloff``)."""
    if freq is not None:
        raise unsupported("feature.spectral_rolloff", "freq", "an array", "freq=None")
    spec, n_fft = _spectrogram("feature.spectral_rolloff", y, S, n_fft, hop_length, win_length, window, center,
                               pad_mode, 1.0)
    return _native.spectral_rolloff(spec, float(sr), n_fft, float(roll_percent)).astype(np.float64)


def spectral_contrast(
    *,
    y: Optional[np.ndarray] = None,
    sr: float = 22050,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    freq: Optional[np.ndarray] = None,
    fmin: float = 200.0,
    n_bands: int = 6,
    quantile: float = 0.02,
    linear: bool = False,
) -> np.ndarray:
    """Spectral contrast ``[n_bands + 1, n_frames]`` in dB (``librosa.feature.spectral_contrast``)."""
    if freq is not None:
        raise unsupported("feature.spectral_contrast", "freq", "an array", "freq=None")
    require_default("feature.spectral_contrast", "linear", linear, False)
    spec, n_fft = _spectrogram("feature.spectral_contrast", y, S, n_fft, hop_length, win_length, window, center,
                               pad_mode, 1.0)
    return _native.spectral_contrast(spec, float(sr), n_fft, float(fmin),
                                     positive_int("feature.spectral_contrast", "n_bands", n_bands),
                                     float(quantile)).astype(np.float64)


def spectral_flatness(
    *,
    y: Optional[np.ndarray] = None,
    S: Optional[np.ndarray] = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    pad_mode: Any = "constant",
    amin: float = 1e-10,
    power: float = 2.0,
) -> np.ndarray:
    """Spectral flatness ``[1, n_frames]`` (``librosa.feature.spectral_flatness``), ``power=2`` only."""
    require_default("feature.spectral_flatness", "power", power, 2.0)
    spec, _ = _spectrogram("feature.spectral_flatness", y, S, n_fft, hop_length, win_length, window, center,
                           pad_mode, 1.0)
    return _native.spectral_flatness(spec, float(amin))


def zero_crossing_rate(
    y: np.ndarray,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    **kwargs: Any,
) -> np.ndarray:
    """Zero-crossing rate ``[1, n_frames]`` (``librosa.feature.zero_crossing_rate``), centred."""
    require_default("feature.zero_crossing_rate", "center", center, True)
    if kwargs:
        name = next(iter(kwargs))
        raise unsupported("feature.zero_crossing_rate", name, kwargs[name], "librosa's zero_crossings defaults")
    return _native.zero_crossing_rate(audio("feature.zero_crossing_rate", y),
                                      positive_int("feature.zero_crossing_rate", "frame_length", frame_length),
                                      positive_int("feature.zero_crossing_rate", "hop_length", hop_length)
                                      ).astype(np.float64)


def rms(
    *,
    y: Optional[np.ndarray] = None,
    S: Optional[np.ndarray] = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    pad_mode: Any = "constant",
    dtype: Any = np.float32,
) -> np.ndarray:
    """Root-mean-square energy ``[1, n_frames]`` (``librosa.feature.rms``), from ``y`` or a magnitude ``S``."""
    require_default("feature.rms", "center", center, True)
    require_default("feature.rms", "pad_mode", pad_mode, "constant")
    if np.dtype(dtype) != np.float32:
        raise unsupported("feature.rms", "dtype", dtype, "dtype=np.float32")
    if S is not None:
        return _native.rms_spectrogram(spectrogram("feature.rms", S))
    return _native.rms(audio("feature.rms", y), positive_int("feature.rms", "frame_length", frame_length),
                       positive_int("feature.rms", "hop_length", hop_length))
