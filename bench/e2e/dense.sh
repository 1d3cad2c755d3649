#!/usr/bin/env bash
# Dense and hybrid retrieval on SciFact: each mode scored on the train queries (where settings
# are chosen) and on the test queries (reported). One JSON line per (embedder, mode, fusion, split).
#   bench/e2e/dense.sh [DATASET_DIR]   (default: data/scifact, the bundled copy)
source "$(dirname "$0")/common.sh"
ds=${1:-$root/data/scifact}
ws=$out/dense-ws
rm -rf "$ws"
run() {  # embedder mode fusion split
  local t0 t1 line
  t0=$(date +%s.%N)
  line=$("$bin/ragft" --data "$ws" --json eval retrieval --corpus "$ds/corpus.jsonl.gz" --queries "$ds/queries.jsonl" \
    --qrels "$ds/qrels/$4.tsv" --workspace "$ws" --repeat 3 --mode "$2" --fusion "$3" ${1:+--embedder "$1"} 2>/dev/null)
  t1=$(date +%s.%N)
  tag "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); m=d["metrics"]; l=d["latency"]; print(json.dumps({"bench":"dense","embedder":sys.argv[2],"mode":sys.argv[3],"fusion":sys.argv[4] if sys.argv[3]=="hybrid" else None,"split":sys.argv[5],"ndcg@10":round(m["ndcg@10"],4),"recall@100":round(m["recall@100"],4),"p50_ms":l["p50_ms"],"p95_ms":l["p95_ms"],"dense_build_s":d["index"]["dense_seconds"],"run_s":float(sys.argv[6])}))' \
    "$line" "${1:-none}" "$2" "$3" "$4" "$(echo "$t1 - $t0" | bc)")"
}
for split in train test; do run "" bm25 rrf:k=60 $split; done
for emb in ict sif; do
  for split in train test; do
    run $emb dense rrf:k=60 $split
    for f in rrf:k=60 "weighted:w=0.5|0.5" "weighted:w=0.6|0.4" "weighted:w=0.7|0.3" "weighted:w=0.8|0.2" "weighted:w=0.9|0.1"; do
      run $emb hybrid "$f" $split
    done
  done
done
