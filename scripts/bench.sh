#!/usr/bin/env bash
# bench.sh is `make bench`: the Go benchmarks of tenancy (provisioning,
# fleet migrations, tenancy overhead), of the GraphQL list in process, and of River (no-op, SendEmail into
# Mailpit, a per-tenant maintenance fan-out, payments) and of scale-out (list req/s with 1, 2, 3 `clientiq
# serve` behind PgBouncer), each with an iteration count that fits it, then the
# load scenarios of issue 7 against a running server (cmd/clientiq-bench,
# default dataset: 100 tenants × 1,000 projects and 10,000 data items, with
# a CPU profile of the server under the list scenario). Results go under
# bench/results/ so runs can be compared: benchstat old.txt new.txt for the
# Go benchmarks, the -load.json and -load.md files for the load runs.
#
# Bounded to BENCH_BUDGET seconds (default 1200, 20 minutes): the Go
# benchmarks get what the load run does not need (BENCH_LOAD_BUDGET,
# default 540 s: the load run takes about 425 s, 490 s when it must build
# the benchmark database first, on 2 cores); a benchmark that would start
# past its share is skipped and says so. The load run gets whatever is
# left and, stopped at the limit, still writes what it measured.
# Extra arguments go to clientiq-bench (see `make bench-load`).
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${BENCH_BUDGET:-1200}
load_budget=${BENCH_LOAD_BUDGET:-540}
go_deadline=$((budget - load_budget))
mkdir -p bench/results bench/tmp
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ)-go.txt"
run() { # pattern benchtime [package]
  local left=$((go_deadline - SECONDS))
  if [ "$left" -lt 30 ]; then
    echo "skipped $1: the Go benchmarks' share of the time budget is spent" | tee -a "$out"
    return 0
  fi
  # shellcheck disable=SC2086 # $2 may carry -count
  go test -run '^$' -bench "$1" -benchtime $2 -timeout "${left}s" "${3:-./internal/tenant/}" | tee -a "$out"
}
{ echo "# $(uname -srm); $(nproc) cores; $(go version)"; echo "# $(psql --version 2>/dev/null || true)"; } > "$out"
run '^BenchmarkProvision$' 100x
run '^BenchmarkProvisionFromPool$' 100x
run '^BenchmarkMigrateNothingToDo$' 20x
run '^BenchmarkMigrateAdditive$' 3x
run '^BenchmarkTenancyOverhead$' '3s -count=5'
# The GraphQL list in process: CPU, bytes and allocations per request.
run '^BenchmarkGraphQLList$' '3000x -count=3' ./graph/
# River: a no-op job, SendEmail into Mailpit, a maintenance fan-out over 300
# tenants, and the payment pipeline.
run '^BenchmarkRiverNoop$' '20000x -count=3' ./internal/jobs/
run '^BenchmarkRiverSendEmail$' '2000x -count=3' ./internal/jobs/
run '^BenchmarkMaintenanceFanOut$' '300x -count=2' ./internal/jobs/
run '^BenchmarkPaymentPipeline$' '1000x -count=3' ./internal/payment/
# Scale-out: list req/s with 1, 2, 3 `clientiq serve` (GOMAXPROCS=1) behind PgBouncer.
run '^BenchmarkScaleOut$' 1x ./cmd/clientiq/
echo "go benchmark results: $out"

go build -o bench/tmp/clientiq-bench ./cmd/clientiq-bench
left=$((budget - SECONDS))
timeout --signal=INT --kill-after=30s "${left}s" bench/tmp/clientiq-bench --cpuprofile "$@"
