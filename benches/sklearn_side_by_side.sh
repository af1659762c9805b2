#!/usr/bin/env bash
# Side-by-side accuracy and training time of genreid's classical models and
# scikit-learn 1.9 / XGBoost 3.2 on one feature table, the same splits, in
# one run, both with their libraries' default hyper-parameters (no tuning)
# and the same number of threads. Makes its own Python virtual env.
#
#   benches/sklearn_side_by_side.sh [TABLE.csv] [THREADS]
#
# Default table: ../shared/data/gtzan/features_30_sec.csv, on the
# fault-filtered GTZAN lists and on stratified 10-fold cross-validation.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GENREID_SHARED:-$root/../shared}"
venv="${GENREID_BENCH_VENV:-$root/target/bench-venv-sklearn}"
table="${1:-$shared/data/gtzan/features_30_sec.csv}"
threads="${2:-$(nproc)}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "scikit-learn==1.9.*" "xgboost==3.2.*" numpy
fi
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" RAYON_NUM_THREADS="$threads"

cargo build --quiet --release -p genreid
out="$(mktemp -d)"
for split in "lists:$shared/data/gtzan/splits" "kfold:10"; do
  "$root/target/release/genreid" compare --no-tune --features "$table" --split "$split" --report "$out/genreid" 2>/dev/null
  "$venv/bin/python" "$root/benches/sklearn_models.py" "$table" "$split" "$threads" > "$out/sklearn.jsonl"
  "$venv/bin/python" - "$out/genreid/comparison.json" "$out/sklearn.jsonl" "${split%%:*}" <<'PY'
import json, sys
ours = {r["model"]: r for r in json.load(open(sys.argv[1]))}
theirs = [json.loads(l) for l in open(sys.argv[2])]
split = "fault-filtered lists" if sys.argv[3] == "lists" else "stratified 10-fold"
for t in theirs:
    o = ours.get(t["model"]) or ours.get(t["model"].split(" ")[0])
    print(f"| {split} | {t['model']} | {t['accuracy']:.3f} | {o['accuracy']:.3f} | "
          f"{t['fit_seconds']:.3f} | {o['fit_seconds']:.3f} | {t['fit_seconds'] / o['fit_seconds']:.1f}x |")
PY
done
rm -rf "$out"
