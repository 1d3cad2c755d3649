#!/usr/bin/env bash
# `ragft decide` on the bundled examples, cold (empty cache) and warm (everything cached): wall
# time of the whole process, the decision and each arm's quality. One JSON line per run.
#   bench/e2e/decide.sh [trec|scifact|all]
source "$(dirname "$0")/common.sh"
which=${1:-all}
run() {
  local ex=$1 mode=$2 cache=$out/decide-cache-$1
  [[ $mode == cold ]] && rm -rf "$cache"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin/ragft" decide "$root/examples/$ex/project.yaml" --cache "$cache" --out "$out/decide-$ex" --json \
      > "$out/decide-$ex-$mode.json" 2> "$out/decide-$ex-$mode.log"
  t1=$(date +%s.%N)
  tag "$(python3 - "$out/decide-$ex-$mode.json" "$ex" "$mode" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
arms = {a["id"]: round(a["quality"]["value"], 4) for a in r["arms"]}
print(json.dumps({"bench": "decide", "example": sys.argv[2], "mode": sys.argv[3], "seconds": round(float(sys.argv[5]) - float(sys.argv[4]), 2),
                  "decision": r["recommendation"]["decision"], "metric": r["metric"]["label"], "arms": arms,
                  "cached_arms": r["timing"]["cached_arms"]}))
PY
)"
}
for ex in trec scifact; do
  [[ $which == all || $which == "$ex" ]] || continue
  run "$ex" cold
  run "$ex" warm
done
