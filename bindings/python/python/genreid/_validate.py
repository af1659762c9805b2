"""Argument checks shared by the librosa-named functions.

genreid follows librosa 0.11's names and defaults. An argument it does not
support raises ``NotImplementedError`` naming the argument (an unknown
keyword raises ``TypeError``, as Python does); nothing is silently ignored.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._native import ParameterError

__all__ = ["audio", "spectrogram", "unsupported", "require_default", "no_extra", "complex_spectrogram"]


def unsupported(function: str, argument: str, value: Any, supported: str) -> NotImplementedError:
    """The error for an argument value genreid does not implement."""
    return NotImplementedError(
        f"genreid.{function}: {argument}={value!r} is not supported (genreid supports {supported})"
    )


def require_default(function: str, argument: str, value: Any, default: Any) -> None:
    """Raises ``NotImplementedError`` unless ``value`` is the only supported ``default``."""
    same = value is default or (
        not isinstance(value, np.ndarray) and not callable(value) and value == default
    )
    if not same:
        raise unsupported(function, argument, value, f"only {argument}={default!r}")


def no_extra(function: str, kwargs: dict) -> None:
    """Raises ``TypeError`` for keyword arguments the function does not take."""
    if kwargs:
        names = ", ".join(sorted(kwargs))
        raise TypeError(f"genreid.{function}() got unexpected keyword argument(s): {names}")


def _floating(function: str, x: Any, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "f":
        raise ParameterError(f"genreid.{function}: {what} must be floating-point, not {x.dtype}")
    return x


def audio(function: str, y: Any) -> np.ndarray:
    """``y`` as a contiguous, finite, non-empty mono float32 signal.

    librosa's ``valid_audio`` rules: floating-point, finite everywhere.
    float64 input is computed from its float32 rounding (genreid's
    pipeline is float32, as ``librosa.load``'s output is).
    """
    if y is None:
        raise ParameterError(f"genreid.{function}: audio y is required")
    y = _floating(function, y, "audio data")
    if y.ndim != 1:
        raise NotImplementedError(
            f"genreid.{function}: audio of shape {y.shape} (genreid supports mono, 1-D signals; "
            "mix down or call once per channel)"
        )
    if y.size == 0:
        raise ParameterError(f"genreid.{function}: audio buffer is empty")
    y = np.ascontiguousarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        raise ParameterError(f"genreid.{function}: audio buffer is not finite everywhere")
    return y


def spectrogram(function: str, S: Any, what: str = "S") -> np.ndarray:
    """``S`` as a contiguous 2-D float32 array ``(n_bins, n_frames)``."""
    S = np.asarray(S)
    if np.iscomplexobj(S):
        raise ParameterError(f"genreid.{function}: {what} must be real (take np.abs of a complex STFT)")
    S = _floating(function, S, what)
    if S.ndim != 2:
        raise NotImplementedError(
            f"genreid.{function}: {what} of shape {S.shape} (genreid supports 2-D (bins, frames) arrays)"
        )
    if S.size == 0:
        raise ParameterError(f"genreid.{function}: {what} is empty")
    S = np.ascontiguousarray(S, dtype=np.float32)
    if not np.isfinite(S).all():
        raise ParameterError(f"genreid.{function}: {what} is not finite everywhere")
    return S


def complex_spectrogram(function: str, D: Any) -> np.ndarray:
    """``D`` as a contiguous 2-D complex64 array."""
    D = np.asarray(D)
    if not np.iscomplexobj(D):
        raise ParameterError(f"genreid.{function}: stft_matrix must be complex, not {D.dtype}")
    if D.ndim != 2:
        raise NotImplementedError(f"genreid.{function}: stft_matrix of shape {D.shape} (2-D only)")
    return np.ascontiguousarray(D, dtype=np.complex64)


def positive_int(function: str, name: str, value: Optional[int]) -> Optional[int]:
    """``value`` checked to be a positive integer (``None`` passes)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"genreid.{function}: {name} must be a positive integer, got {value!r}")
    return int(value)
