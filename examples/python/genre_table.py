"""A GTZAN-style feature table of a folder and a quick classifier on it.

    python examples/python/genre_table.py [FOLDER]

FOLDER holds one sub-folder per genre (default: ../shared/data/gtzan). The
57 GTZAN features of every clip are computed in Rust on all cores, and a
scikit-learn-free nearest-centroid check shows the table is usable as is.
"""

import pathlib
import sys

import numpy as np

import genreid

here = pathlib.Path(__file__).resolve()
folder = sys.argv[1] if len(sys.argv) > 1 else str(here.parents[3] / "shared" / "data" / "gtzan")

table = genreid.features_table(folder, set="gtzan57")
print(table.iloc[:3, :6])
X = table.iloc[:, 2:-1].to_numpy()
X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)
labels = table["label"].to_numpy()
genres = sorted(set(labels))
# Leave-one-out nearest centroid: a sanity check, not a benchmark.
right = 0
for i in range(len(X)):
    keep = np.arange(len(X)) != i
    centroids = np.stack([X[keep & (labels == g)].mean(axis=0) for g in genres])
    right += genres[int(np.argmin(((centroids - X[i]) ** 2).sum(axis=1)))] == labels[i]
print(f"{len(table)} clips, {len(genres)} genres: nearest-centroid accuracy {right / len(X):.2f}")
