#!/usr/bin/env bash
# Incremental sync: a folder of 10k files (SciFact abstracts as .txt), indexed once; then one file
# changes and `ragft index` runs again. Prints the wall time of the re-sync (whole process).
#   bench/e2e/sync.sh [FILES]
source "$(dirname "$0")/common.sh"
n=${1:-10000}
dir=$out/sync-docs
ws=$out/sync-ws
rm -rf "$dir" "$ws"
mkdir -p "$dir"
python3 - "$root/data/scifact/corpus.jsonl.gz" "$dir" "$n" <<'PY'
import gzip, json, sys, os
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = [json.loads(l) for l in gzip.open(src, "rt")]
for i in range(n):
    d = docs[i % len(docs)]
    sub = os.path.join(dst, f"{i // 1000:02d}")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"doc{i:05d}.txt"), "w") as f:
        f.write(f"{d['title']}\n\n{d['text']}\n\ncopy {i}\n")
PY
t0=$(date +%s.%N)
"$bin/ragft" --data "$ws" index "$dir" 2> "$out/sync-initial.log"
t1=$(date +%s.%N)
echo "one more sentence about sync." >> "$dir/05/doc05000.txt"
t2=$(date +%s.%N)
"$bin/ragft" --data "$ws" --json index "$dir" > "$out/sync-resync.json" 2> "$out/sync-resync.log"
t3=$(date +%s.%N)
tag "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({"bench":"incremental-sync","files":int(sys.argv[2]),"initial_s":float(sys.argv[3]),"resync_wall_s":float(sys.argv[4]),"changed":r["changed"],"unchanged":r["unchanged"],"added":r["added"]}))' "$out/sync-resync.json" "$n" "$(python3 -c "print($t1 - $t0)")" "$(python3 -c "print($t3 - $t2)")")"
