#!/usr/bin/env bash
# SciFact test quality and single-thread top-10 latency: ragft against SQLite FTS5 and Xapian
# (anchors only), same files, same machine. One JSON line per engine.
#   bench/e2e/scifact.sh [DATASET_DIR]   (default: data/scifact, the bundled copy)
source "$(dirname "$0")/common.sh"
ds=${1:-$root/data/scifact}
ws=$out/scifact-ws
rm -rf "$ws"
# Cold build (timed by the CLI), then the measured run on the warm workspace.
"$bin/ragft" --data "$ws" --json eval retrieval --corpus "$ds/corpus.jsonl.gz" --queries "$ds/queries.jsonl" \
  --qrels "$ds/qrels/test.tsv" --workspace "$ws" --repeat 0 > "$out/scifact-cold.json"
line=$("$bin/ragft" --data "$ws" --json eval retrieval --corpus "$ds/corpus.jsonl.gz" --queries "$ds/queries.jsonl" \
  --qrels "$ds/qrels/test.tsv" --workspace "$ws" --repeat 5 --run "$out/scifact.run" --per-query "$out/scifact.perq.tsv")
tag "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); c=json.load(open(sys.argv[2])); m=d["metrics"]; l=d["latency"]; print(json.dumps({"engine":"ragft","config":" ".join(d["config"].values()),"ndcg@10":m["ndcg@10"],"recall@100":m["recall@100"],"mrr@10":m["mrr@10"],"map@100":m["map@100"],"p50_ms":l["p50_ms"],"p95_ms":l["p95_ms"],"p99_ms":l["p99_ms"],"index_s":c["index"]["build_seconds"],"index_bytes":d["index"]["bytes"],"queries":d["queries"]}))' "$line" "$out/scifact-cold.json")"
if [[ -x "$bin/anchors" ]]; then
  "$bin/anchors" --corpus "$ds/corpus.jsonl.gz" --queries "$ds/queries.jsonl" --qrels "$ds/qrels/test.tsv" \
    --engine both --repeat 5 | while read -r l; do tag "$l"; done
fi
