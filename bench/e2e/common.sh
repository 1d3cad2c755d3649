# Shared helpers for the e2e bench scripts (sourced).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${RAGFT_BUILD_DIR:-$root/build}
bin=$build/bin
out=${RAGFT_BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
sha=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
# Adds sha and machine to a JSON line.
tag() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["git_sha"]=sys.argv[2]; d["machine"]=sys.argv[3]; print(json.dumps(d))' "$1" "$sha" "$machine"; }
