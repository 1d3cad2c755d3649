#!/usr/bin/env bash
# Dense search at scale (see bench/e2e/vectors.cc): 1M x 384 HNSW, recall@10 against exact
# search and single-thread top-10 latency per efSearch. Needs ~4 GB of memory; the build uses
# every core (FAISS/OpenMP).
#   bench/e2e/vectors.sh [N] [DIM]
source "$(dirname "$0")/common.sh"
n=${1:-1000000}
dim=${2:-384}
"$bin/vectors" --n "$n" --dim "$dim" | while read -r l; do tag "$l"; done
