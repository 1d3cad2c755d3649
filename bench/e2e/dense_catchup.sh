#!/usr/bin/env bash
# Catch-up cost of adding a few documents to a big dense workspace (bench/e2e/dense_catchup.cc):
# the delta log against rewriting the whole vectors file on every save, and opening the
# workspace for a BM25 query with and without loading the dense index. Needs ~2 GB of memory and
# ~1 GB of disk at the default 200k x 384.
#   bench/e2e/dense_catchup.sh [N] [DIM] [DOCS_PER_ROUND]
source "$(dirname "$0")/common.sh"
n=${1:-200000}
dim=${2:-384}
add=${3:-5}
"$bin/dense_catchup" --n "$n" --dim "$dim" --add "$add" --dir "$out/dense-catchup-ws" | while read -r l; do tag "$l"; done
rm -rf "$out/dense-catchup-ws"
