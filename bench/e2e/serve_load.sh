#!/usr/bin/env bash
# Load test of `ragft serve` on loopback with wrk: POST /v1/search with the SciFact test queries,
# cycled, every response checked (bench/e2e/serve_search.lua). One JSON line per run.
#
#   bench/e2e/serve_load.sh [--connections 64] [--duration 30] [--wrk-threads 2] [--k 10]
#                           [--threads N] [--search-concurrency N] [--server-cpus LIST --wrk-cpus LIST]
#                           [--runs 1] [--server-arg ARG]...
#                           [--dataset DIR]
#
#   --connections   wrk's open connections (default 64); each holds a server thread while open
#   --duration      seconds of load per run (default 30)
#   --wrk-threads   wrk's threads (default 2)
#   --k             hits per search (default 10)
#   --threads       the server's request threads (default: ragft serve's own default)
#   --search-concurrency   the server's search slots (default: its own, twice the hardware threads)
#   --server-cpus, --wrk-cpus   pin the server and wrk with taskset (e.g. 0 and 1); default: none,
#                   both share every core
#   --runs          runs in a row on the same server (default 1), one line each
#   --server-arg    one more argument for `ragft serve` (repeat it for several), e.g.
#                   --server-arg --highlight-cache-mb --server-arg 0
#   --dataset       a BEIR directory (corpus.jsonl.gz, queries.jsonl, qrels/test.tsv); default
#                   data/scifact
#
# The workspace is built once in $RAGFT_BENCH_OUT (bench/out) and reused; the request bodies are
# written there from the test queries. wrk and the server run on the same machine, so the figures
# are for the two sharing its cores (or the split given), and "load_before" is the 1-minute load
# average when the run started (other work on the machine). "cpu_us_per_request" is the CPU time
# (user + system) the server and wrk spent per request, which other work on the machine affects
# far less than throughput: 1e6 * cores / (server + wrk) is what the cores could serve alone. Exits 1 when any run had a socket
# error, a timeout, a non-2xx answer or a response that was not a search result.
source "$(dirname "$0")/common.sh"

connections=64 duration=30 wrk_threads=2 k=10 threads="" slots="" server_cpus="" wrk_cpus="" runs=1
extra_serve_args=()
ds=$root/data/scifact
while (($#)); do
  case $1 in
    --connections) connections=$2 ;;
    --duration) duration=$2 ;;
    --wrk-threads) wrk_threads=$2 ;;
    --k) k=$2 ;;
    --threads) threads=$2 ;;
    --search-concurrency) slots=$2 ;;
    --server-cpus) server_cpus=$2 ;;
    --wrk-cpus) wrk_cpus=$2 ;;
    --runs) runs=$2 ;;
    --server-arg) extra_serve_args+=("$2") ;;
    --dataset) ds=$2 ;;
    *) echo "serve_load.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
command -v wrk > /dev/null || { echo "serve_load.sh: wrk is not installed (scripts/setup installs it)" >&2; exit 2; }

name=$(basename "$ds")
ws=$out/$name-load-ws
if [[ ! -f $ws/store.db ]]; then
  echo "serve_load.sh: indexing $ds/corpus.jsonl.gz into $ws" >&2
  RAGFT_LOG=warn "$bin/ragft" --data "$ws" index "$ds/corpus.jsonl.gz" >&2
fi
bodies=$out/$name-load-bodies-k$k.jsonl
python3 - "$ds/queries.jsonl" "$ds/qrels/test.tsv" "$k" > "$bodies" <<'EOF'
import json, sys
queries, qrels, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
judged = {line.split("\t")[0] for line in open(qrels, encoding="utf-8").read().splitlines()[1:] if line.strip()}
for line in open(queries, encoding="utf-8"):
    q = json.loads(line)
    if str(q["_id"]) in judged:
        print(json.dumps({"query": q["text"], "k": k}))
EOF

pin() { if [[ -n $1 ]]; then echo "taskset -c $1"; fi; }
# User + system CPU time of a process so far, in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
serve_args=(--data "$ws" --json serve --port 0)
[[ -n $threads ]] && serve_args+=(--threads "$threads")
[[ -n $slots ]] && serve_args+=(--search-concurrency "$slots")
serve_args+=("${extra_serve_args[@]}")
serve_out=$(mktemp) serve_err=$(mktemp)
trap 'rm -f "$serve_out" "$serve_err"' EXIT
# shellcheck disable=SC2046
RAGFT_LOG=warn $(pin "$server_cpus") "$bin/ragft" "${serve_args[@]}" > "$serve_out" 2> "$serve_err" &
server=$!
trap 'kill $server 2> /dev/null || true; rm -f "$serve_out" "$serve_err"' EXIT
for _ in $(seq 100); do [[ -s $serve_out ]] && break; sleep 0.1; done
read -r url server_threads < <(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d["url"], d.get("threads", 0))' \
                                  "$serve_out" 2> /dev/null) || true
[[ -n $url ]] || { echo "serve_load.sh: the server did not start:" >&2; cat "$serve_err" >&2; exit 1; }

status=0
for run in $(seq "$runs"); do
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  server_ticks_before=$(cpu_ticks $server)
  wrk_out=$(mktemp)
  # shellcheck disable=SC2046
  { TIMEFORMAT='%U %S'; time $(pin "$wrk_cpus") wrk -c "$connections" -d "${duration}s" -t "$wrk_threads" \
      --timeout 2s -s "$root/bench/e2e/serve_search.lua" "$url" -- "$bodies" > "$wrk_out"; } 2> "$wrk_out.time"
  server_ticks=$(( $(cpu_ticks $server) - server_ticks_before ))
  wrk_cpu_s=$(awk '{print $1 + $2}' "$wrk_out.time")
  result=$(sed -n 's/^ragft_load_result: //p' "$wrk_out")
  rm -f "$wrk_out" "$wrk_out.time"
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  [[ -n $result ]] || { echo "serve_load.sh: wrk printed no result" >&2; exit 1; }
  line=$(python3 - "$result" <<EOF
import json, sys
r = json.loads(sys.argv[1])
e = r["socket_errors"]
out = {"bench": "serve_load", "dataset": "$name", "route": "POST /v1/search", "k": $k, "run": $run,
       "connections": $connections, "duration_s": $duration, "wrk_threads": $wrk_threads,
       "server_threads": ${threads:-$server_threads}, "search_concurrency": ${slots:-$((2 * $(nproc --all)))},
       "cpus": {"server": "${server_cpus:-all}", "wrk": "${wrk_cpus:-all}"}, "server_args": "${extra_serve_args[*]}",
       "rps": round(r["rps"], 1), "p50_ms": r["latency_ms"]["p50"], "p90_ms": r["latency_ms"]["p90"],
       "p99_ms": r["latency_ms"]["p99"], "max_ms": r["latency_ms"]["max"], "mean_ms": r["latency_ms"]["mean"],
       "requests": r["requests"], "socket_errors": e["connect"] + e["read"] + e["write"], "timeouts": e["timeout"],
       "non_2xx": r["non_2xx"], "valid": r["valid"], "invalid": r["invalid"], "statuses": r["statuses"],
       "load_before": float("$load_before"), "load_after": float("$load_after")}
# CPU time per request (user + system, the kernel's loopback TCP included), so the figures can be
# read apart from the machine's other load: cores busy = (server + wrk) * rps / 1e6.
n = max(r["requests"], 1)
out["cpu_us_per_request"] = {"server": round($server_ticks / $hz * 1e6 / n, 1), "wrk": round($wrk_cpu_s * 1e6 / n, 1)}
print(json.dumps(out))
ok = out["socket_errors"] == 0 and out["timeouts"] == 0 and out["non_2xx"] == 0 and out["invalid"] == 0 and out["valid"] == out["requests"]
sys.exit(0 if ok else 3)
EOF
) || status=1
  tag "$line"
done
kill -TERM $server
wait $server 2>/dev/null || true
exit $status
