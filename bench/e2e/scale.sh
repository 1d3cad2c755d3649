#!/usr/bin/env bash
# 1M-chunk scale run of the lexical index (see bench/e2e/scale.cc): build, then search in a
# fresh process. Needs ~2 GB of disk under bench/out.
#   bench/e2e/scale.sh [CHUNKS]
source "$(dirname "$0")/common.sh"
n=${1:-1000000}
ds=$root/data/scifact
idx=$out/scale-index
tag "$("$bin/scale" build --corpus "$ds/corpus.jsonl.gz" --out "$idx" --chunks "$n" 2>/dev/null)"
tag "$("$bin/scale" search --corpus "$ds/corpus.jsonl.gz" --queries "$ds/queries.jsonl" --qrels "$ds/qrels/test.tsv" --out "$idx")"
