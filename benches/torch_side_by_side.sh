#!/usr/bin/env bash
# Training and inference throughput of genreid's VGG-style net and CRNN
# against the same networks in PyTorch CPU, same batch shapes (32 × 130 × 128:
# 3-s segments of 128-band mel), same thread count, in one run.
#   benches/torch_side_by_side.sh [THREADS] [STEPS]
# Makes a virtual environment with PyTorch (CPU) in .venv-torch on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
steps=${2:-10}
venv=.venv-torch
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu \
        || "$venv/bin/pip" install -q torch
fi
cargo build -q --release -p genreid-train --example network_speed
echo "# PyTorch, $threads threads"
OMP_NUM_THREADS=$threads "$venv/bin/python" benches/torch_networks.py "$threads" "$steps" | tee /tmp/torch_speed.jsonl
echo "# genreid, $threads threads"
: > /tmp/genreid_speed.jsonl
for m in vgg crnn; do
    RAYON_NUM_THREADS=$threads ./target/release/examples/network_speed "$m" 32 130 128 "$steps" | tee -a /tmp/genreid_speed.jsonl
done
"$venv/bin/python" - <<'PY'
import json
t = {r["model"]: r for r in map(json.loads, open("/tmp/torch_speed.jsonl"))}
g = {r["model"]: r for r in map(json.loads, open("/tmp/genreid_speed.jsonl"))}
print("| model | params (genreid / torch) | train samples/s genreid | torch | ratio | inference samples/s genreid | torch | ratio |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for m in g:
    a, b = g[m], t[m]
    print(f"| {m} | {a['parameters']:,} / {b['parameters']:,} | {a['train_samples_per_s']} | {b['train_samples_per_s']} | "
          f"{a['train_samples_per_s'] / b['train_samples_per_s']:.2f}x | {a['infer_samples_per_s']} | {b['infer_samples_per_s']} | "
          f"{a['infer_samples_per_s'] / b['infer_samples_per_s']:.2f}x |")
PY
