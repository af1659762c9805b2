"""genreid from Python in a few lines: load, librosa-equal features, a genre.

    python examples/python/quickstart.py [AUDIO_FILE]

Without an argument it uses a clip from ../shared/fixtures/audio.
"""

import pathlib
import sys

import numpy as np

import genreid

here = pathlib.Path(__file__).resolve()
default = here.parents[3] / "shared" / "fixtures" / "audio" / "metal_muldjord_chaos_god.wav"
path = sys.argv[1] if len(sys.argv) > 1 else str(default)

y, sr = genreid.load(path)  # mono float32 at 22050 Hz, as librosa.load
mel = genreid.power_to_db(genreid.feature.melspectrogram(y=y, sr=sr), ref=np.max)
mfcc = genreid.feature.mfcc(y=y, sr=sr, n_mfcc=13)
tempo, beats = genreid.beat.beat_track(y=y, sr=sr)
print(f"{path}: {len(y) / sr:.1f} s, mel {mel.shape}, mfcc {mfcc.shape}, tempo {tempo[0]:.1f} BPM, {len(beats)} beats")

record = genreid.classify(path)[0]  # the built-in musicnn-gtzan model
top = sorted(record["probabilities"].items(), key=lambda kv: -kv[1])[:3]
print("genre:", record["genre"], "| top 3:", ", ".join(f"{g} {p:.0%}" for g, p in top))
print("tags:", ", ".join(genreid.tags(path, top=5)[0]))
