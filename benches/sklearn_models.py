"""scikit-learn / XGBoost side of benches/sklearn_side_by_side.sh.

Fits each model family with its library defaults on a feature table, over
the same split genreid uses (the GTZAN file lists, or genreid's own
stratified k-fold assignment, reproduced here bit for bit), and prints one
JSON line per model: accuracy of the pooled test predictions and seconds
spent fitting (summed over folds).

    python sklearn_models.py TABLE.csv SPLIT THREADS   # SPLIT: lists:DIR or kfold:K
"""
import csv
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from xgboost import XGBClassifier

BOOKKEEPING = {"filename", "length", "label", "track_id"}
MASK = (1 << 64) - 1


class SplitMix64:
    """genreid_data::SplitMix64, so k-fold assignments are identical."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next_u64() * n) >> 64

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    feature_at = [i for i, h in enumerate(header) if h not in BOOKKEEPING]
    label_at, name_at = header.index("label"), header.index("filename")
    x = np.array([[float(r[i]) for i in feature_at] for r in body])
    labels = [r[label_at] for r in body]
    names = [r[name_at] for r in body]
    return x, labels, names


def folds(spec, labels, names):
    if spec.startswith("kfold:"):
        parts = spec.split(":")
        k, seed = int(parts[1]), int(parts[2]) if len(parts) > 2 else 0
        rng = SplitMix64(seed)
        assignment, nxt = [0] * len(labels), 0
        for c in sorted(set(labels)):
            rows = [i for i, l in enumerate(labels) if l == c]
            rng.shuffle(rows)
            for r in rows:
                assignment[r] = nxt % k
                nxt += 1
        a = np.array(assignment)
        return [(np.where(a != f)[0], np.where(a == f)[0]) for f in range(k)]
    directory = spec.split(":", 1)[1]
    stem = lambda n: os.path.basename(n).rsplit(".", 1)[0]
    read = lambda p: {stem(l.strip()) for l in open(os.path.join(directory, p)) if l.strip()}
    train, test = read("train_filtered.txt"), read("test_filtered.txt")
    stems = [stem(n) for n in names]
    return [(np.array([i for i, s in enumerate(stems) if s in train]), np.array([i for i, s in enumerate(stems) if s in test]))]


def models(threads):
    return {
        # genreid's SVM always calibrates probabilities as libsvm does.
        "svm": lambda: SVC(probability=True, random_state=0),
        "svm (sklearn, no probabilities)": lambda: SVC(),
        "knn": lambda: KNeighborsClassifier(),
        "logreg": lambda: LogisticRegression(max_iter=500),
        "random-forest": lambda: RandomForestClassifier(random_state=0, n_jobs=threads),
        "gbm": lambda: XGBClassifier(n_jobs=threads, tree_method="hist"),
        "gbm (sklearn GradientBoosting)": lambda: GradientBoostingClassifier(),
    }


def main():
    table, spec, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x, labels, names = read_table(table)
    classes = sorted(set(labels))
    y = np.array([classes.index(l) for l in labels])
    splits = folds(spec, labels, names)
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    for name, make in models(threads).items():
        correct, total, seconds = 0, 0, 0.0
        for train, test in splits:
            model = make_pipeline(StandardScaler(), make())
            started = time.perf_counter()
            model.fit(x[train], y[train])
            seconds += time.perf_counter() - started
            correct += int((model.predict(x[test]) == y[test]).sum())
            total += len(test)
        print(json.dumps({"model": name, "accuracy": correct / total, "fit_seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
