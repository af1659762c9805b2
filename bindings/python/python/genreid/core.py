"""Audio in and the spectrogram core: ``load``, ``resample``, ``stft``,
``istft``, the dB conversions and ``cqt``, with librosa 0.11's signatures."""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np

from . import _native
from ._validate import (
    audio,
    complex_spectrogram,
    positive_int,
    require_default,
    spectrogram,
    unsupported,
)

__all__ = ["load", "resample", "stft", "istft", "power_to_db", "amplitude_to_db", "db_to_power", "cqt",
           "AudioWarning"]


class AudioWarning(UserWarning):
    """The decoder noticed something that does not stop a load: a stream
    shorter than its header says, damaged packets, samples above full scale."""

C1_HZ = 32.70319566257483


def load(
    path: Union[str, os.PathLike],
    *,
    sr: Optional[float] = 22050,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
    dtype: Any = np.float32,
    res_type: str = "soxr_hq",
) -> Tuple[np.ndarray, int]:
    """Load an audio file as a mono float32 signal, as ``librosa.load`` does.

    Parameters
    ----------
    path : str or os.PathLike
        WAV, FLAC, MP3, Ogg Vorbis or Sun ``.au``.
    sr : float or None
        Target sample rate (default 22050); ``None`` keeps the file's own.
    mono : bool
        Must be True: genreid mixes every file to mono by channel mean.
    offset : float
        Seconds to skip at the start.
    duration : float or None
        Seconds to read after ``offset``; ``None`` reads to the end.
    dtype, res_type
        Only ``np.float32`` and ``"soxr_hq"`` (genreid's resampler matches
        soxr's HQ band edge; 63-68 dB agreement).

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
    sr : int

    Raises
    ------
    genreid.AudioError
        The file cannot be read or decoded; the message names it.

    Warns
    -----
    genreid.AudioWarning
        The file is truncated or damaged, or its samples exceed full scale.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise unsupported("load", "path", type(path).__name__, "file paths (str or os.PathLike)")
    if mono is not True:
        raise unsupported("load", "mono", mono, "mono=True")
    if np.dtype(dtype) != np.float32:
        raise unsupported("load", "dtype", dtype, "dtype=np.float32")
    require_default("load", "res_type", res_type, "soxr_hq")
    y, rate, noticed = _native.load(os.fspath(path), None if sr is None else float(sr), float(offset),
                                    None if duration is None else float(duration))
    for message in noticed:
        warnings.warn(message, AudioWarning, stacklevel=2)
    return y, rate


def resample(
    y: np.ndarray,
    *,
    orig_sr: float,
    target_sr: float,
    res_type: str = "soxr_hq",
    fix: bool = True,
    scale: bool = False,
    axis: int = -1,
    **kwargs: Any,
) -> np.ndarray:
    """Resample a signal from ``orig_sr`` to ``target_sr`` (``librosa.resample``).

    Only ``res_type="soxr_hq"``, ``fix=True``, ``scale=False`` and 1-D
    signals are supported. Returns float32 of length
    ``ceil(len(y) * target_sr / orig_sr)``.
    """
    if kwargs:
        raise unsupported("resample", next(iter(kwargs)), kwargs[next(iter(kwargs))], "no resampler options")
    require_default("resample", "res_type", res_type, "soxr_hq")
    require_default("resample", "fix", fix, True)
    require_default("resample", "scale", scale, False)
    require_default("resample", "axis", axis, -1)
    y = audio("resample", y)
    if orig_sr == target_sr:
        return y.copy()
    return _native.resample(y, float(orig_sr), float(target_sr))


def _stft_settings(function: str, n_fft: int, hop_length: Optional[int], win_length: Optional[int],
                   window: Any, center: bool, pad_mode: Any) -> Tuple[int, int, int]:
    n_fft = positive_int(function, "n_fft", n_fft)
    win_length = positive_int(function, "win_length", win_length) or n_fft
    hop_length = positive_int(function, "hop_length", hop_length) or max(1, win_length // 4)
    if not (isinstance(window, str) and window in ("hann", "hanning")):
        raise unsupported(function, "window", window, "window='hann'")
    if center and pad_mode != "constant":
        raise unsupported(function, "pad_mode", pad_mode, "pad_mode='constant'")
    if win_length > n_fft:
        from ._native import ParameterError

        raise ParameterError(f"genreid.{function}: win_length={win_length} must be <= n_fft={n_fft}")
    return n_fft, hop_length, win_length


def stft(
    y: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    dtype: Any = None,
    pad_mode: Any = "constant",
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Short-time Fourier transform (``librosa.stft``).

    Returns
    -------
    D : np.ndarray [shape=(1 + n_fft/2, n_frames), dtype=complex64]
        Computed with a float64 FFT and stored as complex64, as librosa does.
    """
    n_fft, hop, win = _stft_settings("stft", n_fft, hop_length, win_length, window, center, pad_mode)
    if dtype is not None and np.dtype(dtype) != np.complex64:
        raise unsupported("stft", "dtype", dtype, "dtype=None or np.complex64")
    if out is not None:
        raise unsupported("stft", "out", "an array", "out=None")
    return _native.stft(audio("stft", y), n_fft, hop, win, bool(center))


def istft(
    stft_matrix: np.ndarray,
    *,
    hop_length: Optional[int] = None,
    win_length: Optional[int] = None,
    n_fft: Optional[int] = None,
    window: Any = "hann",
    center: bool = True,
    dtype: Any = None,
    length: Optional[int] = None,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Inverse short-time Fourier transform (``librosa.istft``), float32."""
    D = complex_spectrogram("istft", stft_matrix)
    n_fft = positive_int("istft", "n_fft", n_fft) or 2 * (D.shape[0] - 1)
    n_fft, hop, win = _stft_settings("istft", n_fft, hop_length, win_length, window, center, "constant")
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise unsupported("istft", "dtype", dtype, "dtype=None or np.float32")
    if out is not None:
        raise unsupported("istft", "out", "an array", "out=None")
    if length is None:
        length = n_fft + hop * (D.shape[1] - 1) - (2 * (n_fft // 2) if center else 0)
    length = positive_int("istft", "length", length)
    return _native.istft(D, n_fft, hop, win, bool(center), length)


def _reference(ref: Union[float, Callable], magnitude: np.ndarray) -> float:
    value = ref(magnitude) if callable(ref) else ref
    return float(np.abs(value))


def _elementwise_2d(function: str, S: Any) -> Tuple[np.ndarray, Tuple[int, ...]]:
    S = np.asarray(S)
    shape = S.shape
    flat = S.reshape(1, -1) if S.ndim != 2 else S
    return spectrogram(function, flat), shape


def power_to_db(
    S: np.ndarray,
    *,
    ref: Union[float, Callable] = 1.0,
    amin: float = 1e-10,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """Power spectrogram to decibels (``librosa.power_to_db``), float32.

    ``ref`` is a number or a function of ``S`` (e.g. ``np.max``); values
    are floored at ``max - top_db``.
    """
    if np.iscomplexobj(S):
        S = np.abs(S)
    S2, shape = _elementwise_2d("power_to_db", S)
    reference = _reference(ref, S2)
    return _native.power_to_db(S2, reference, float(amin), None if top_db is None else float(top_db)).reshape(shape)


def amplitude_to_db(
    S: np.ndarray,
    *,
    ref: Union[float, Callable] = 1.0,
    amin: float = 1e-5,
    top_db: Optional[float] = 80.0,
) -> np.ndarray:
    """Amplitude spectrogram to decibels (``librosa.amplitude_to_db``), float32."""
    magnitude = np.abs(np.asarray(S))
    M, shape = _elementwise_2d("amplitude_to_db", magnitude)
    reference = _reference(ref, M)
    power = np.square(M)
    out = _native.power_to_db(power, reference**2, float(amin) ** 2, None if top_db is None else float(top_db))
    return out.reshape(shape)


def db_to_power(S_db: np.ndarray, *, ref: float = 1.0) -> np.ndarray:
    """Decibels to power, ``ref * 10**(S_db / 10)`` (``librosa.db_to_power``), float32."""
    S, shape = _elementwise_2d("db_to_power", S_db)
    return _native.db_to_power(S.reshape(-1), float(ref)).reshape(shape)


def cqt(
    y: np.ndarray,
    *,
    sr: float = 22050,
    hop_length: int = 512,
    fmin: Optional[float] = None,
    n_bins: int = 84,
    bins_per_octave: int = 12,
    tuning: Optional[float] = 0.0,
    filter_scale: float = 1,
    norm: Optional[float] = 1,
    sparsity: float = 0.01,
    window: Any = "hann",
    scale: bool = True,
    pad_mode: Any = "constant",
    res_type: Optional[str] = "soxr_hq",
    dtype: Any = None,
) -> np.ndarray:
    """Constant-Q transform magnitude, ``np.abs(librosa.cqt(...))``.

    Unlike ``librosa.cqt``, genreid returns the magnitude only (float32):
    its CQT feeds chroma, CENS and tonnetz, which use no phase.
    ``tuning=None`` estimates the tuning from ``y``.
    """
    for name, value, default in [("filter_scale", filter_scale, 1), ("norm", norm, 1), ("sparsity", sparsity, 0.01),
                                 ("window", window, "hann"), ("scale", scale, True), ("pad_mode", pad_mode, "constant"),
                                 ("res_type", res_type, "soxr_hq"), ("dtype", dtype, None)]:
        require_default("cqt", name, value, default)
    hop = positive_int("cqt", "hop_length", hop_length)
    return _native.cqt(audio("cqt", y), float(sr), hop, C1_HZ if fmin is None else float(fmin),
                       positive_int("cqt", "n_bins", n_bins), positive_int("cqt", "bins_per_octave", bins_per_octave),
                       None if tuning is None else float(tuning))
