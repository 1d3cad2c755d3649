#!/usr/bin/env bash
# Text classification: our contenders (linear = fastText library with validation-chosen epochs,
# knn = BM25 neighbours, neural = libtorch CNN trained from scratch, combo = weighted mixture of
# the three, weights chosen on validation) against the Debian `fasttext` CLI on the same splits.
# Prediction latency is measured with one thread (RAGFT_THREADS=1 for libtorch).
#   TREC-6 coarse: data/trec-qc/train_5500.label -> TREC_10.label
#   SST-2:         data/sst2/stsa.binary.train  -> stsa.binary.test
# One JSON line per (dataset, system): accuracy, training time, peak memory (/usr/bin/time -v),
# single-thread prediction latency.
#   bench/e2e/classify.sh [trec|sst|all]
source "$(dirname "$0")/common.sh"
which=${1:-all}
ft=$(command -v fasttext || true)
work=$out/classify
mkdir -p "$work"

# Peak RSS (MB) and elapsed seconds from a /usr/bin/time -v log.
peak_mb() { awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.2f", s}' "$1"
}

run_one() {  # name format train test encoding ft_epoch ft_lr
  local name=$1 fmt=$2 train=$3 test=$4 enc=$5 ft_epoch=$6 ft_lr=$7
  local d=$work/$name
  rm -rf "$d"
  mkdir -p "$d"
  # ragft: linear alone (its wall time and memory), then every contender and the combination.
  /usr/bin/time -v "$bin/ragft" --json train classify --train "$train" --format "$fmt" --encoding "$enc" \
    --eval "$test" --contender linear --out "$d/linear-only" > "$d/linear.json" 2> "$d/linear.time"
  /usr/bin/time -v "$bin/ragft" --json train classify --train "$train" --format "$fmt" --encoding "$enc" \
    --eval "$test" --contender all --out "$d/models" > "$d/all.json" 2> "$d/all.time"
  for kind in linear knn neural combo; do
    local dir=$d/models/$kind
    [[ $kind == linear ]] && dir=$d/linear-only
    RAGFT_THREADS=1 "$bin/ragft" --json eval classify "$dir" "$test" --format "$fmt" --encoding "$enc" > "$d/eval-$kind.json"
    local mem wall
    if [[ $kind == linear ]]; then mem=$(peak_mb "$d/linear.time"); wall=$(wall_s "$d/linear.time");
    else mem=$(peak_mb "$d/all.time"); wall=$(wall_s "$d/all.time"); fi
    tag "$(python3 - "$d/eval-$kind.json" "$name" "$kind" "$mem" "$wall" "$d/models/$kind/model.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[6]))
print(json.dumps({"bench": "classify", "dataset": sys.argv[2], "system": "ragft-" + sys.argv[3],
                  "accuracy": round(e["accuracy"], 4), "macro_f1": round(e["macro_f1"], 4),
                  "train_seconds": round(e["train_seconds"], 2), "process_wall_s": float(sys.argv[5]),
                  "peak_rss_mb": float(sys.argv[4]),
                  "latency_us_p50": round(e["latency_us_p50"], 1), "latency_us_p99": round(e["latency_us_p99"], 1),
                  "load_ms": round(e["load_ms"], 1), "model_mb": round(e["bytes_on_disk"] / 1e6, 1),
                  "validation_accuracy": m["metrics"].get("validation", {}).get("accuracy"),
                  "settings": m.get("extra", {}), "config": m["config"],
                  "note": "peak/wall of the linear-only run" if sys.argv[3] == "linear" else "peak/wall of the run training all contenders"}))
PY
)"
  done

  if [[ -z $ft ]]; then echo '{"bench":"classify","system":"fasttext-cli","skipped":"fasttext not installed"}'; return; fi
  # fastText CLI on the same examples, in its own format (labels as __label__X, text as given).
  python3 - "$train" "$test" "$fmt" "$enc" "$d" <<'PY'
import sys
train, test, fmt, enc, d = sys.argv[1:]
def conv(src, dst):
    with open(src, encoding="latin-1" if enc == "latin-1" else "utf-8") as f, open(dst, "w", encoding="utf-8") as o:
        for line in f:
            line = line.strip()
            if not line: continue
            label, text = line.split(" ", 1)
            if fmt == "trec": label = label.split(":")[0]
            o.write(f"__label__{label} {text}\n")
conv(train, d + "/ft.train"); conv(test, d + "/ft.test")
PY
  /usr/bin/time -v "$ft" supervised -input "$d/ft.train" -output "$d/ft" -epoch "$ft_epoch" -wordNgrams 2 \
    -lr "$ft_lr" -verbose 0 > /dev/null 2> "$d/ft.time"
  local acc n t_all t_one
  acc=$("$ft" test "$d/ft.bin" "$d/ft.test" | awk '/^P@1/ {print $2}')
  n=$(wc -l < "$d/ft.test")
  head -1 "$d/ft.test" > "$d/ft.one"
  t_one=$( { /usr/bin/time -f %e "$ft" predict "$d/ft.bin" "$d/ft.one" > /dev/null; } 2>&1 )
  t_all=$( { /usr/bin/time -f %e "$ft" predict "$d/ft.bin" "$d/ft.test" > /dev/null; } 2>&1 )
  tag "$(python3 -c '
import json, sys
acc, wall, mem, n, t_all, t_one, size, name, ep, lr = sys.argv[1:]
per = max(0.0, float(t_all) - float(t_one)) / max(1, int(n) - 1) * 1e6
print(json.dumps({"bench": "classify", "dataset": name, "system": "fasttext-cli", "accuracy": float(acc),
                  "train_seconds": float(wall), "peak_rss_mb": float(mem), "latency_us_mean": round(per, 1),
                  "model_mb": round(int(size) / 1e6, 1),
                  "config": f"fasttext supervised -epoch {ep} -wordNgrams 2 -lr {lr} (default dim 100, bucket 2M, thread 12)",
                  "note": "latency: (predict all - predict one line) / (n-1), whole-process timing at 10 ms resolution"}))
' "$acc" "$(wall_s "$d/ft.time")" "$(peak_mb "$d/ft.time")" "$n" "$t_all" "$t_one" "$(stat -c %s "$d/ft.bin")" \
    "$name" "$ft_epoch" "$ft_lr")"
}

if [[ $which == trec || $which == all ]]; then
  run_one trec6 trec "$root/data/trec-qc/train_5500.label" "$root/data/trec-qc/TREC_10.label" latin-1 25 0.5
fi
if [[ $which == sst || $which == all ]]; then
  run_one sst2 sst "$root/data/sst2/stsa.binary.train" "$root/data/sst2/stsa.binary.test" utf-8 10 0.2
fi
