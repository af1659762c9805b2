#!/usr/bin/env bash
# Similarity on the shared GTZAN clips: same-genre precision@5 across
# artists for genreid's embeddings, the 57 GTZAN features and bliss-audio's
# analysis, and analysis time per track, one thread each.
#   benches/similarity_side_by_side.sh [SHARED]
# Builds bliss-audio 0.11.4 (its symphonia decoding, no ffmpeg) in
# target/bliss-side-by-side and the evaluation example in release.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${1:-${GENREID_SHARED:-../shared}}"
out=target/similarity
mkdir -p "$out"
cargo build --release --manifest-path benches/bliss/Cargo.toml --target-dir target/bliss-side-by-side
cargo build --release --example similarity_eval
find "$shared/data/gtzan" -name '*.flac' | sort > "$out/clips.txt"
# One core each: bliss analyses a song's descriptors on several threads.
xargs taskset -c 0 target/bliss-side-by-side/release/bliss-side-by-side < "$out/clips.txt" > "$out/bliss.csv"
RAYON_NUM_THREADS=1 taskset -c 0 target/release/examples/similarity_eval "$shared" "$out/bliss.csv"
