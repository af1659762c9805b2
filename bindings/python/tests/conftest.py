"""Shared fixtures: the reference audio in ../shared (a clear failure, never a
skip, when it is missing) and comparison helpers with the Rust tests'
tolerances."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SHARED = pathlib.Path(os.environ.get("GENREID_SHARED", ROOT.parent / "shared"))
if not (SHARED / "fixtures" / "audio").is_dir():
    raise RuntimeError(
        f"reference data not found at {SHARED}: clone with ../shared beside the repository "
        "or set GENREID_SHARED"
    )
AUDIO = SHARED / "fixtures" / "audio"
CLIPS = ["rock_sectoid_escape_from_chaosland", "orchestral_wesnoth_heroes_rite", "techno_warzone2100_track1"]


def fixture(name: str) -> str:
    """Path of a fixture audio file (``.wav`` added when there is no suffix)."""
    path = AUDIO / (name if "." in name else name + ".wav")
    assert path.is_file(), f"missing fixture {path}"
    return str(path)


@pytest.fixture(scope="session")
def clips():
    """Three real 30-s clips (22050 Hz mono float32), each cut to 10 s, and random and tonal arrays."""
    import librosa

    out = {}
    for name in CLIPS:
        y, sr = librosa.load(fixture(name), sr=22050)
        out[name] = y[: 10 * sr]
    rng = np.random.default_rng(7)
    out["noise"] = (0.1 * rng.standard_normal(5 * 22050)).astype(np.float32)
    t = np.arange(5 * 22050) / 22050
    out["chirp"] = (0.5 * np.sin(2 * np.pi * (220 + 200 * t) * t)).astype(np.float32)
    return out


def assert_close(got, want, rel=1e-5, floor=1e-6, what=""):
    """Same shape and dtype; elementwise relative error <= ``rel`` wherever
    ``|want|`` is above ``floor`` of its largest value (below it, float32
    rounding noise of the FFT)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs librosa {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} vs librosa {want.dtype}"
    g, w = got.astype(np.complex128 if np.iscomplexobj(want) else np.float64), want.astype(
        np.complex128 if np.iscomplexobj(want) else np.float64)
    scale = np.abs(w).max()
    mask = np.abs(w) > floor * scale
    err = np.abs(g - w)[mask] / np.abs(w)[mask]
    worst = err.max() if err.size else 0.0
    assert worst <= rel, f"{what}: max relative error {worst:.2e} > {rel:.0e}"


def assert_abs(got, want, tol, what=""):
    """Same shape and dtype, and every value within ``tol``."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs librosa {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} vs librosa {want.dtype}"
    worst = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    assert worst <= tol, f"{what}: max abs error {worst:.2e} > {tol:.0e}"
