"""The same Python calls through genreid and through librosa 0.11, on the same
clips, in one run: each call single-threaded, and the GTZAN-57 table of a
folder single-threaded and on all cores.

    python benches/python_vs_librosa.py [--repeats N] [--clips DIR] [--table DIR] [--calls-only]

Needs a virtual environment with the genreid wheel, librosa 0.11 and joblib
(`.ci/python` makes one in target/py-test). Each mode runs in its own
process so that thread settings (RAYON_NUM_THREADS, OMP_NUM_THREADS,
NUMBA_NUM_THREADS) are fixed before either library starts. Prints a
Markdown table per mode.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("GENREID_SHARED", ROOT.parent / "shared"))
CLIPS = [
    "orchestral_wesnoth_heroes_rite", "metal_muldjord_chaos_god", "rock_sectoid_escape_from_chaosland",
    "electronic_nexuiz_digital_pursuit", "ambient_singularity_through_space", "techno_warzone2100_track1",
]
SR = 22050


def calls(lib, np):
    """name -> function of a signal, the same call through either library."""
    f = lib.feature
    return {
        "load (WAV)": None,  # timed separately: it takes a path
        "stft": lambda y: lib.stft(y),
        "feature.melspectrogram": lambda y: f.melspectrogram(y=y, sr=SR),
        "power_to_db(mel, ref=np.max)": None,  # timed on the mel spectrogram
        "feature.mfcc": lambda y: f.mfcc(y=y, sr=SR, n_mfcc=20),
        "feature.chroma_stft": lambda y: f.chroma_stft(y=y, sr=SR),
        "feature.chroma_cqt": lambda y: f.chroma_cqt(y=y, sr=SR),
        "feature.chroma_cens": lambda y: f.chroma_cens(y=y, sr=SR),
        "feature.tonnetz": lambda y: f.tonnetz(y=y, sr=SR),
        "cqt": lambda y: lib.cqt(y, sr=SR),
        "feature.spectral_centroid": lambda y: f.spectral_centroid(y=y, sr=SR),
        "feature.spectral_bandwidth": lambda y: f.spectral_bandwidth(y=y, sr=SR),
        "feature.spectral_rolloff": lambda y: f.spectral_rolloff(y=y, sr=SR),
        "feature.spectral_contrast": lambda y: f.spectral_contrast(y=y, sr=SR),
        "feature.spectral_flatness": lambda y: f.spectral_flatness(y=y),
        "feature.zero_crossing_rate": lambda y: f.zero_crossing_rate(y),
        "feature.rms": lambda y: f.rms(y=y),
        "onset.onset_strength": lambda y: lib.onset.onset_strength(y=y, sr=SR),
        "beat.beat_track": lambda y: lib.beat.beat_track(y=y, sr=SR),
        "feature.rhythm.tempo": lambda y: f.rhythm.tempo(y=y, sr=SR),
        "effects.hpss": lambda y: lib.effects.hpss(y),
        "resample (22050 -> 16000)": lambda y: lib.resample(y, orig_sr=SR, target_sr=16000),
        "istft": None,  # timed on the STFT
    }


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def per_call(repeats, clips_dir):
    """Seconds per clip of every call, for both libraries (one thread)."""
    import librosa
    import librosa.feature.rhythm  # noqa: F401  (librosa.feature.rhythm.tempo)
    import numpy as np

    import genreid

    paths = [str(pathlib.Path(clips_dir) / f"{c}.wav") for c in CLIPS]
    signals = [librosa.load(p, sr=SR)[0] for p in paths]
    out = {}
    for name, lib in [("librosa", librosa), ("genreid", genreid)]:
        table = calls(lib, np)
        warm = signals[0][: 3 * SR]
        for key, fn in table.items():  # numba's JIT, caches, thread pools
            if fn is not None:
                fn(warm)
        for key, fn in table.items():
            total = 0.0
            for path, y in zip(paths, signals):
                if key == "load (WAV)":
                    total += best(lambda: lib.load(path, sr=SR), repeats)
                elif key == "istft":
                    D = librosa.stft(y)
                    total += best(lambda: lib.istft(D), repeats)
                elif key == "power_to_db(mel, ref=np.max)":
                    S = librosa.feature.melspectrogram(y=y, sr=SR)
                    total += best(lambda: lib.power_to_db(S, ref=np.max), repeats)
                else:
                    total += best(lambda: fn(y), repeats)
            out.setdefault(key, {})[name] = total / len(paths)
    return out


def librosa_row(path):
    """One GTZAN-57 row as the Kaggle table was made: librosa calls in a loop
    (the row of ``benches/librosa_features.py``)."""
    import librosa

    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from librosa_features import gtzan57

    y, _ = librosa.load(path, sr=SR)
    return gtzan57(y)


def table(folder, jobs):
    """Seconds for the GTZAN-57 table of every clip under ``folder``."""
    import genreid

    files = genreid._native.audio_files([folder])
    librosa_row(files[0])  # warm numba
    genreid.features_table(files[:2], n_jobs=1, progress=False)
    t = time.perf_counter()
    if jobs == 1:
        for f in files:
            librosa_row(f)
    else:
        from joblib import Parallel, delayed

        Parallel(n_jobs=-1)(delayed(librosa_row)(f) for f in files)
    theirs = time.perf_counter() - t
    t = time.perf_counter()
    frame = genreid.features_table(files, n_jobs=jobs, progress=False)
    ours = time.perf_counter() - t
    assert len(frame) == len(files)
    return {"files": len(files), "librosa": theirs, "genreid": ours}


def child(mode, args):
    if mode == "calls":
        result = per_call(args.repeats, args.clips)
    else:
        result = table(args.table, 1 if mode == "table-1" else None)
    print(json.dumps(result))


def run_mode(mode, args, threads):
    env = dict(os.environ)
    if threads == 1:
        env.update(RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   NUMBA_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", mode, "--repeats", str(args.repeats), "--clips", args.clips,
           "--table", args.table]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clips", default=str(SHARED / "fixtures" / "audio"))
    parser.add_argument("--table", default=str(SHARED / "data" / "gtzan"))
    parser.add_argument("--calls-only", action="store_true", help="skip the GTZAN-57 table (minutes)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)
    import genreid
    import librosa

    print(f"genreid {genreid.__version__}, librosa {librosa.__version__}, {os.cpu_count()} cores, "
          f"best of {args.repeats} per clip, 6 clips of 30 s at 22,050 Hz\n")
    result = run_mode("calls", args, 1)
    print("| call (one thread) | librosa (ms/clip) | genreid (ms/clip) | speed-up |")
    print("|---|---:|---:|---:|")
    for key, r in result.items():
        print(f"| `{key}` | {1e3 * r['librosa']:.1f} | {1e3 * r['genreid']:.2f} | {r['librosa'] / r['genreid']:.1f}x |")
    ratios = [r["librosa"] / r["genreid"] for r in result.values()]
    print(f"\ngeometric mean speed-up {statistics.geometric_mean(ratios):.1f}x; "
          f"{sum(x >= 5 for x in ratios)} of {len(ratios)} calls at least 5x; "
          f"{sum(x < 1 for x in ratios)} slower than librosa\n")
    if args.calls_only:
        return
    print("| GTZAN-57 table | files | librosa loop (s) | genreid.features_table (s) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for mode, threads, label in [("table-1", 1, "one thread"), ("table-all", None, "all cores (librosa: joblib)")]:
        r = run_mode(mode, args, threads)
        print(f"| {label} | {r['files']} | {r['librosa']:.1f} | {r['genreid']:.2f} | {r['librosa'] / r['genreid']:.1f}x |")


if __name__ == "__main__":
    main()
