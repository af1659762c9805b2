"""Compares `genreid features --set fma518` with FMA's own recipe
(features.py of the FMA repository, run with librosa 0.11) on the same
files, printing per-group agreement.

Usage: python check_fma518.py GENREID_TABLE.csv FILE...
"""
import csv
import sys

import librosa
import numpy as np
from scipy import stats


def fma_features(path):
    x, sr = librosa.load(path, sr=None, mono=True)
    out = {}

    def feature_stats(name, values):
        for stat, fn in [
            ("kurtosis", lambda v: stats.kurtosis(v, axis=1)),
            ("max", lambda v: np.max(v, axis=1)),
            ("mean", lambda v: np.mean(v, axis=1)),
            ("median", lambda v: np.median(v, axis=1)),
            ("min", lambda v: np.min(v, axis=1)),
            ("skew", lambda v: stats.skew(v, axis=1)),
            ("std", lambda v: np.std(v, axis=1)),
        ]:
            for k, value in enumerate(fn(values), start=1):
                out[f"{name}_{stat}_{k:02d}"] = float(value)

    feature_stats("zcr", librosa.feature.zero_crossing_rate(x, frame_length=2048, hop_length=512))
    cqt = np.abs(librosa.cqt(x, sr=sr, hop_length=512, bins_per_octave=12, n_bins=7 * 12, tuning=None))
    f = librosa.feature.chroma_cqt(C=cqt, n_chroma=12, n_octaves=7)
    feature_stats("chroma_cqt", f)
    f = librosa.feature.chroma_cens(C=cqt, n_chroma=12, n_octaves=7)
    feature_stats("chroma_cens", f)
    feature_stats("tonnetz", librosa.feature.tonnetz(chroma=f))
    stft = np.abs(librosa.stft(x, n_fft=2048, hop_length=512))
    feature_stats("chroma_stft", librosa.feature.chroma_stft(S=stft**2, n_chroma=12))
    feature_stats("rmse", librosa.feature.rms(S=stft))
    feature_stats("spectral_centroid", librosa.feature.spectral_centroid(S=stft))
    feature_stats("spectral_bandwidth", librosa.feature.spectral_bandwidth(S=stft))
    feature_stats("spectral_contrast", librosa.feature.spectral_contrast(S=stft, n_bands=6))
    feature_stats("spectral_rolloff", librosa.feature.spectral_rolloff(S=stft))
    mel = librosa.feature.melspectrogram(sr=sr, S=stft**2)
    feature_stats("mfcc", librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20))
    return out


def main():
    ours = {r["filename"]: r for r in csv.DictReader(open(sys.argv[1]))}
    worst = {}
    for path in sys.argv[2:]:
        name = path.rsplit("/", 1)[-1]
        ref = fma_features(path)
        for col, want in ref.items():
            got = float(ours[name][col])
            group = col.rsplit("_", 2)[0]
            stat = col.rsplit("_", 2)[1]
            key = (group, stat)
            scale = max(abs(want), 1e-9)
            err = abs(got - want) / scale
            worst.setdefault(key, []).append(err)
    print("| group | statistic | median rel. error | max rel. error |")
    print("|---|---|---:|---:|")
    for (group, stat), errs in sorted(worst.items()):
        print(f"| {group} | {stat} | {np.median(errs):.1e} | {np.max(errs):.1e} |")


if __name__ == "__main__":
    main()
