"""Times librosa 0.11 on the same workloads as genreid's `time_features`
example, single-threaded, printing JSON lines {"workload", "seconds"}
(median of REPEATS runs per file, summed over files).

Usage: python librosa_features.py REPEATS FILE...
"""
import json
import statistics
import sys
import time

import librosa
import numpy as np

SR = 22050


def stft(y):
    return np.abs(librosa.stft(y, n_fft=2048, hop_length=512)).sum()


WORKLOADS = {
    "stft": stft,
    "melspectrogram": lambda y: librosa.feature.melspectrogram(y=y, sr=SR).sum(),
    "mel_db": lambda y: librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR), ref=np.max).sum(),
    "mfcc": lambda y: librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20).sum(),
    "chroma_stft": lambda y: librosa.feature.chroma_stft(y=y, sr=SR).sum(),
    "spectral_stats": lambda y: (
        librosa.feature.spectral_centroid(y=y, sr=SR).sum()
        + librosa.feature.spectral_bandwidth(y=y, sr=SR).sum()
        + librosa.feature.spectral_rolloff(y=y, sr=SR).sum()
    ),
    "spectral_contrast": lambda y: librosa.feature.spectral_contrast(y=y, sr=SR).sum(),
    "zcr_rms": lambda y: librosa.feature.zero_crossing_rate(y).sum() + librosa.feature.rms(y=y).sum(),
    "onset_strength": lambda y: librosa.onset.onset_strength(y=y, sr=SR).sum(),
    "beat_track": lambda y: librosa.beat.beat_track(y=y, sr=SR)[0],
    "hpss": lambda y: sum(x.sum() for x in librosa.effects.hpss(y)),
}


def gtzan57(y):
    """One row of the Kaggle GTZAN features_30_sec.csv, as it was computed."""
    row = []
    feats = [
        librosa.feature.chroma_stft(y=y, sr=SR),
        librosa.feature.rms(y=y),
        librosa.feature.spectral_centroid(y=y, sr=SR),
        librosa.feature.spectral_bandwidth(y=y, sr=SR),
        librosa.feature.spectral_rolloff(y=y, sr=SR),
        librosa.feature.zero_crossing_rate(y),
    ]
    feats += list(librosa.effects.hpss(y))
    for f in feats:
        row += [float(f.mean()), float(f.var())]
    row.append(float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=SR)[0])[0]))
    for c in librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20):
        row += [float(c.mean()), float(c.var())]
    return float(np.sum(row))


WORKLOADS["gtzan57"] = gtzan57


def time_workloads(workloads, signals, repeats):
    """Prints {"workload", "seconds"} per workload: the median of `repeats`
    runs per signal, summed over signals (after one warm-up call each)."""
    for fn in workloads.values():  # warm up JIT caches (numba, torch)
        fn(signals[0][: SR * 3])
    for name, fn in workloads.items():
        total = 0.0
        for y in signals:
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fn(y)
                times.append(time.perf_counter() - t)
            total += statistics.median(times)
        print(json.dumps({"workload": name, "seconds": total}), flush=True)


def main():
    repeats = int(sys.argv[1])
    signals = [librosa.load(f, sr=SR)[0] for f in sys.argv[2:]]
    time_workloads(WORKLOADS, signals, repeats)


if __name__ == "__main__":
    main()
