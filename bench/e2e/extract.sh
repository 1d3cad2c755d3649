#!/usr/bin/env bash
# Entity extraction on W-NUT 2017 (emerging and rare entities): train the contenders on
# wnut17train.conll, choose their settings on emerging.dev.conll, evaluate on
# emerging.test.annotated with conlleval's entity P/R/F1 (overall and per type):
#  - tagger-knn: BM25 neighbour projection + gazetteer (options chosen on dev)
#  - tagger-neural: BiLSTM-CRF with character CNN and word shapes, no pretrained embeddings
#    (early stopping on dev F1; needs a build with libtorch)
#  - tagger-combo: the neural tagger's entities combined with the knn tagger's (rule chosen on
#    dev); trains both, so its time and memory include the neural training. One JSON line per system: quality, training time, whole-process
# wall time and peak memory (/usr/bin/time -v), single-thread latency per sentence, model size.
# Reference: the best W-NUT 2017 system reached entity F1 ~0.419 on this test set.
#   bench/e2e/extract.sh
source "$(dirname "$0")/common.sh"
data=$root/data/wnut17
work=$out/extract
rm -rf "$work"
mkdir -p "$work"

peak_mb() { awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}' "$1"
}

run_one() {  # system [--config CONFIG]
  local system=$1; shift
  local d=$work/$system
  /usr/bin/time -v "$bin/ragft" --json train extract --train "$data/wnut17train.conll" \
    --dev "$data/emerging.dev.conll" --eval "$data/emerging.test.annotated" --out "$d" "$@" \
    > "$work/$system.train.json" 2> "$work/$system.time"
  RAGFT_THREADS=1 "$bin/ragft" --json eval extract "$d" "$data/emerging.test.annotated" > "$work/$system.eval.json"
  tag "$(python3 - "$work/$system.train.json" "$work/$system.eval.json" "$(peak_mb "$work/$system.time")" \
                   "$(wall_s "$work/$system.time")" "$system" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
r4 = lambda x: round(x, 4)
checks = t["data_checks"]
sel = t.get("selection")
val = t.get("validation", {})
if sel:
    sel_text = f"{sel['configs_tried']} configs on {sel['source']}"
elif "best_epoch" in val:
    sel_text = f"early stopping on {val['source']}: best epoch {val['best_epoch']} of {val['epochs_run']}"
else:
    sel_text = "fixed --config"
print(json.dumps({
    "bench": "extract", "dataset": "wnut17", "split": "emerging.test.annotated", "system": sys.argv[5],
    "config": t["config"],
    "selection": sel_text,
    "dev_f1": r4(t["dev"]["f1"]),
    "f1": r4(e["f1"]), "precision": r4(e["precision"]), "recall": r4(e["recall"]),
    "token_accuracy": r4(e["accuracy"]),
    "per_type_f1": {k: r4(v["f1"]) for k, v in e["per_type"].items()},
    "test_entities": e["gold"], "test_entities_seen_in_train": checks["eval"]["entities"] - checks["eval"]["unseen_entities"],
    "test_unseen_share": r4(checks["eval"]["unseen_share"]),
    "train_seconds": round(t["train_seconds"], 2), "process_wall_s": float(sys.argv[4]),
    "peak_rss_mb": float(sys.argv[3]),
    "load_ms": round(e["load_ms"], 1), "latency_ms_p50": round(e["latency_ms"]["p50"], 4), "latency_ms_p99": round(e["latency_ms"]["p99"], 4),
    "model_mb": round(e["model_bytes"] / 1e6, 2),
    "reference": "best W-NUT 2017 system: entity F1 ~0.419"}))
PY
)"
}

# Options chosen on dev (the contender as shipped), then projection forced on for comparison.
run_one ragft-tagger-knn
run_one ragft-tagger-knn-k10 --config tagger-knn:k=10,min_ratio=0.1
# The neural tagger and the combination (skipped in a build without libtorch).
if grep -q '^RAGFT_WITH_TORCH:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  run_one ragft-tagger-neural --contender neural
  run_one ragft-tagger-combo --contender combo
fi
