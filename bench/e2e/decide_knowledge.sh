#!/usr/bin/env bash
# The trained arms of a knowledge bake-off on SciFact (closed-book fastText over doc ids; BM25 +
# linear reranker with the closed-book feature) against BM25: one JSON line per arm, test qrels.
#   bench/e2e/decide_knowledge.sh [DATASET_DIR] [decide_knowledge flags, e.g. --select]
# Build first: ninja -C "$RAGFT_BUILD_DIR" decide_knowledge
source "$(dirname "$0")/common.sh"
ds=${1:-$root/data/scifact}
shift || true
"$bin/decide_knowledge" --dataset "$ds" "$@" | while read -r l; do tag "$l"; done
