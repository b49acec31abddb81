#!/usr/bin/env bash
# bench.sh is `make bench`: the Go benchmarks of tenancy (provisioning,
# fleet migrations, tenancy overhead) and of River (no-op, SendEmail into
# Mailpit, payments), each with an iteration count that
# fits it, results kept under bench/results/ so runs can be compared
# (benchstat old.txt new.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ)-go.txt"
run() { # pattern benchtime [package]
  # shellcheck disable=SC2086 # $2 may carry -count
  go test -run '^$' -bench "$1" -benchtime $2 -timeout 60m "${3:-./internal/tenant/}" | tee -a "$out"
}
{ echo "# $(uname -srm); $(nproc) cores; $(go version)"; echo "# $(psql --version 2>/dev/null || true)"; } > "$out"
run '^BenchmarkProvision$' 100x
run '^BenchmarkProvisionFromPool$' 100x
run '^BenchmarkMigrateNothingToDo$' 20x
run '^BenchmarkMigrateAdditive$' 3x
run '^BenchmarkTenancyOverhead$' '3s -count=5'
# River: a no-op job, SendEmail into Mailpit, and the payment pipeline.
run '^BenchmarkRiverNoop$' '20000x -count=3' ./internal/jobs/
run '^BenchmarkRiverSendEmail$' '2000x -count=3' ./internal/jobs/
run '^BenchmarkPaymentPipeline$' '1000x -count=3' ./internal/payment/
echo "results: $out"
