"""librosa.feature, onset, beat, effects and filters against librosa 0.11,
on real clips and on random and tonal arrays, with the Rust tests' tolerances."""

import librosa
import librosa.feature.rhythm
import numpy as np
import pytest

import genreid

from conftest import assert_abs, assert_close

SR = 22050


def test_filters_mel():
    for kw in [dict(sr=SR, n_fft=2048), dict(sr=16000, n_fft=512, n_mels=96), dict(sr=SR, n_fft=2048, htk=True,
               fmin=30.0, fmax=8000.0), dict(sr=SR, n_fft=1024, norm=None)]:
        assert_close(genreid.filters.mel(**kw), librosa.filters.mel(**kw), rel=1e-5, what=f"mel {kw}")


def test_melspectrogram(clips):
    for name, y in clips.items():
        for kw in [{}, dict(n_fft=1024, hop_length=256, n_mels=64), dict(power=1.0, fmax=8000.0)]:
            got = genreid.feature.melspectrogram(y=y, sr=SR, **kw)
            want = librosa.feature.melspectrogram(y=y, sr=SR, **kw)
            assert_close(got, want, rel=1e-5, what=f"{name} melspectrogram {kw}")
    S = np.abs(librosa.stft(clips["chirp"])) ** 2
    assert_close(genreid.feature.melspectrogram(S=S, sr=SR), librosa.feature.melspectrogram(S=S, sr=SR), rel=1e-5)


def test_mfcc(clips):
    for name, y in clips.items():
        assert_abs(genreid.feature.mfcc(y=y, sr=SR), librosa.feature.mfcc(y=y, sr=SR), 5e-4, f"{name} mfcc")
        assert_abs(genreid.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_mels=40),
                   librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_mels=40), 5e-4, f"{name} mfcc 13/40")
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=clips["noise"], sr=SR))
    assert_abs(genreid.feature.mfcc(S=S), librosa.feature.mfcc(S=S), 5e-4, "mfcc from S")


def test_chroma_stft(clips):
    for name, y in clips.items():
        assert_abs(genreid.feature.chroma_stft(y=y, sr=SR), librosa.feature.chroma_stft(y=y, sr=SR), 1e-5,
                   f"{name} chroma_stft")
        assert_abs(genreid.feature.chroma_stft(y=y, sr=SR, tuning=0.0),
                   librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0), 1e-5, f"{name} chroma_stft tuning=0")


def _interior_and_all(got, want, inner, everywhere, what):
    assert got.shape == want.shape and got.dtype == want.dtype, what
    cols = got.shape[1]
    lo, hi = min(40, cols), max(cols - 40, min(40, cols))
    assert np.abs(got[:, lo:hi] - want[:, lo:hi]).max() < inner, f"{what}: interior"
    assert np.abs(got - want).max() < everywhere, f"{what}: ends"


@pytest.mark.parametrize("name", ["rock_sectoid_escape_from_chaosland", "techno_warzone2100_track1"])
def test_chroma_cqt_cens_tonnetz(clips, name):
    # As in the Rust tests: the CQT's octave resampling differs from soxr at
    # the signal's ends, which the long low filters carry ~0.9 s inwards.
    y = clips[name]
    _interior_and_all(genreid.feature.chroma_cqt(y=y, sr=SR), librosa.feature.chroma_cqt(y=y, sr=SR), 5e-5, 2e-3,
                      f"{name} chroma_cqt")
    _interior_and_all(genreid.feature.tonnetz(y=y, sr=SR), librosa.feature.tonnetz(y=y, sr=SR), 5e-5, 2e-3,
                      f"{name} tonnetz")
    _interior_and_all(genreid.feature.chroma_cens(y=y, sr=SR), librosa.feature.chroma_cens(y=y, sr=SR), 1e-4, 5e-3,
                      f"{name} chroma_cens")


def test_spectral_statistics(clips):
    for name, y in clips.items():
        for f, rel in [("spectral_centroid", 1e-5), ("spectral_bandwidth", 1e-5)]:
            assert_close(getattr(genreid.feature, f)(y=y, sr=SR), getattr(librosa.feature, f)(y=y, sr=SR), rel=rel,
                         floor=1e-3, what=f"{name} {f}")
        got = genreid.feature.spectral_rolloff(y=y, sr=SR)
        want = librosa.feature.spectral_rolloff(y=y, sr=SR)
        # A bin frequency picked by a cumulative sum: the same bin, or a neighbour where sums tie in float32.
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.mean(got == want) > 0.99, f"{name} rolloff"
        assert_close(genreid.feature.spectral_flatness(y=y), librosa.feature.spectral_flatness(y=y), rel=1e-4,
                     floor=1e-4, what=f"{name} flatness")
        assert_abs(genreid.feature.spectral_contrast(y=y, sr=SR), librosa.feature.spectral_contrast(y=y, sr=SR),
                   1e-3, f"{name} contrast")
    S = np.abs(librosa.stft(clips["chirp"], n_fft=1024))
    assert_close(genreid.feature.spectral_bandwidth(S=S, sr=SR, p=1), librosa.feature.spectral_bandwidth(S=S, sr=SR,
                 p=1), rel=1e-5, floor=1e-3, what="bandwidth p=1 from S")


def test_zero_crossing_rate_and_rms(clips):
    for name, y in clips.items():
        assert_abs(genreid.feature.zero_crossing_rate(y), librosa.feature.zero_crossing_rate(y), 1e-6, f"{name} zcr")
        assert_close(genreid.feature.rms(y=y), librosa.feature.rms(y=y), rel=1e-5, floor=1e-4, what=f"{name} rms")
        assert_close(genreid.feature.rms(y=y, frame_length=1024, hop_length=256),
                     librosa.feature.rms(y=y, frame_length=1024, hop_length=256), rel=1e-5, floor=1e-4)
    S = np.abs(librosa.stft(clips["noise"]))
    assert_close(genreid.feature.rms(S=S), librosa.feature.rms(S=S), rel=1e-5, floor=1e-4, what="rms from S")


def test_onset_tempo_and_beats(clips):
    for name, y in clips.items():
        env = genreid.onset.onset_strength(y=y, sr=SR)
        assert_abs(env, librosa.onset.onset_strength(y=y, sr=SR), 1e-3, f"{name} onset_strength")
        med = genreid.onset.onset_strength(y=y, sr=SR, aggregate=np.median)
        assert_abs(med, librosa.onset.onset_strength(y=y, sr=SR, aggregate=np.median), 1e-3, f"{name} median onset")
        tempo = genreid.feature.rhythm.tempo(y=y, sr=SR)
        want = librosa.feature.rhythm.tempo(y=y, sr=SR)
        assert tempo.shape == want.shape and tempo.dtype == want.dtype
        np.testing.assert_allclose(tempo, want, rtol=1e-9, err_msg=f"{name} tempo")
        bpm, beats = genreid.beat.beat_track(y=y, sr=SR)
        want_bpm, want_beats = librosa.beat.beat_track(y=y, sr=SR)
        np.testing.assert_allclose(bpm, want_bpm, rtol=1e-9, err_msg=f"{name} beat_track tempo")
        assert np.shape(bpm) == np.shape(want_bpm)
        np.testing.assert_array_equal(beats, want_beats, err_msg=f"{name} beats")
        _, times = genreid.beat.beat_track(y=y, sr=SR, units="time")
        np.testing.assert_allclose(times, librosa.frames_to_time(want_beats, sr=SR))


def test_hpss(clips):
    for name in ["rock_sectoid_escape_from_chaosland", "noise"]:
        y = clips[name]
        h, p = genreid.effects.hpss(y)
        wh, wp = librosa.effects.hpss(y)
        for part, got, want in [("harmonic", h, wh), ("percussive", p, wp)]:
            assert got.shape == want.shape and got.dtype == want.dtype
            # As the Rust tests: statistics within 1e-4 of the signal's scale.
            assert abs(got.mean() - want.mean()) < 1e-4 * want.std(), f"{name} {part} mean"
            assert abs(got.var() - want.var()) < 1e-4 * want.var(), f"{name} {part} var"
        np.testing.assert_array_equal(genreid.effects.harmonic(y), h)
        np.testing.assert_array_equal(genreid.effects.percussive(y), p)
