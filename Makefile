# The two commands: `make up` starts the control plane, `make test` runs every check.
# Both set up what a fresh machine lacks: npm packages (which include Node.js 24, see
# README), generated proto types, and the etcd and redis-server binaries.

NODE := node_modules/.bin/node
PROTOS := $(shell find proto -name '*.proto')
TEST_FILES := 'lib/**/*.test.ts' 'services/**/*.test.ts' 'test/**/*.test.ts'

.PHONY: up test lint typecheck unit gen gen-kinds gen-typed-api deps system-deps bench bench-watch bench-pipeline bench-charts fuzz trace-picture clean

# Settings by environment (docs/configuration.md#make-up), e.g. `ETCD_MEMBERS=3 make up` for a
# three-member etcd cluster on loopback.
up: deps gen
	@scripts/ensure-system-deps.sh up
	$(NODE) scripts/up.ts

test: deps gen system-deps lint typecheck unit

unit: deps gen
	$(NODE) --test --test-timeout=300000 $(TEST_FILES)

# The storage service against raw etcd in one run (its own etcd, redis-server and storage
# process); prints a table and writes bench/results/storage.{json,md}. BENCH_SECONDS sets the
# seconds per benchmark and side (default 10), shared by BENCH_ROUNDS rounds (default 3) whose
# median ratio and range are reported; the whole run takes a little over 2 minutes.
#
# `make bench` runs the storage, watch and pipeline benches one after the other (a line per
# bench, and each bench prints a line per step), then draws the charts into docs/images/
# (`make bench-charts` redraws them from bench/results/ alone).
bench: deps gen system-deps
	@echo "== $$(date -u +%H:%M:%S) make bench 1/4: storage service against raw etcd (bench/storage.ts)"
	$(NODE) bench/storage.ts
	@echo "== $$(date -u +%H:%M:%S) make bench 2/4: watch fan-out and saturation (bench/watch.ts)"
	$(NODE) bench/watch.ts
	@echo "== $$(date -u +%H:%M:%S) make bench 3/4: REST pipeline against raw etcd (bench/pipeline.ts)"
	$(NODE) bench/pipeline.ts
	@echo "== $$(date -u +%H:%M:%S) make bench 4/4: charts (bench/charts-from-results.ts)"
	$(NODE) bench/charts-from-results.ts

# The charts of the benchmark results (SVG line charts in docs/images/: the pipeline's
# throughput and p99 against requests in flight, the watch saturation and fan-out against
# watchers), redrawn from bench/results/*.json; see bench/charts-from-results.ts.
bench-charts: deps
	$(NODE) bench/charts-from-results.ts

# The watch fan-out of issue 4 against raw grpc-js streaming and raw Redis pub/sub in one run
# (its own etcd, redis-server, storage and two watch replicas; watchers in child processes);
# prints a table and writes bench/results/watch.{json,md}; `make bench` runs it after the
# storage bench. BENCH_SECONDS sets the measured seconds per side (default 10), shared by
# BENCH_ROUNDS rounds (default 3) whose median and range are reported; memory per idle
# watcher over BENCH_MEMORY_WATCHERS (5,000) idle watchers per server; then the saturation
# run (BENCH_SAT_*: the write rate raised step by step for 1,000 and 5,000 watchers until
# p99 passes 100 ms or a delivery goes wrong, BENCH_SAT_RAMPS times, default BENCH_ROUNDS;
# the rate reached as median and range) and the charts. BENCH_WATCHERS_A/B scale the watchers down (a diagnostic
# run, results not written). See bench/watch.ts.
bench-watch: deps gen system-deps
	$(NODE) bench/watch.ts

# The whole control plane through its HTTPS REST front door (HTTP/2; BENCH_HTTP=1.1 for
# HTTP/1.1) and its typed gRPC API against raw etcd in the same run (create, get, update,
# patch, apply, paginated list at 64 in flight; typed gRPC create; create p99 at half the
# maximum rate, open loop; a load sweep of create and get from 1 to 128 in flight), each
# process's CPU per operation, and what authorization costs (an RBAC user, the auth cache on
# and off); prints a table ending with the issue's aims, met or missed, and writes
# bench/results/pipeline.{json,md}. BENCH_SECONDS per benchmark and side (default 10) in
# BENCH_ROUNDS rounds (default 3), BENCH_ONLY for a subset, BENCH_CPU_PROF=<dir> for a CPU
# profile of every service summarized per process; about 11 minutes.
bench-pipeline: deps gen system-deps
	$(NODE) bench/pipeline.ts

# The hostile-input fuzzer at length (test/fuzz/hostile.ts; `make test` runs it briefly with a
# fixed seed): FUZZ_RUNS REST requests (default 20000) and a quarter as many gRPC calls against
# its own control plane; prints the answers by status, the gateway's memory before, at its peak
# and after, what broke which rule, and a summary line. FUZZ_SEED replays a run; more settings
# in scripts/fuzz.ts.
fuzz: deps gen system-deps
	$(NODE) scripts/fuzz.ts

# Redraws docs/images/trace.svg: a ConfigMap create and its watch on a control plane of its own,
# exporting to an OTLP receiver the script starts, drawn as a waterfall (scripts/trace-picture.ts).
trace-picture: deps gen system-deps
	$(NODE) scripts/trace-picture.ts

lint: deps
	$(NODE) node_modules/.bin/eslint --max-warnings=0 .

typecheck: deps gen
	$(NODE) node_modules/.bin/tsc -p .

gen: lib/gen/.stamp packages/client/src/gen/.stamp

# TypeScript types from proto/ (proto/ stays the single source of truth); imports get the .ts
# extension Node's type stripping needs.
lib/gen/.stamp: $(PROTOS) node_modules/.stamp
	rm -rf lib/gen
	$(NODE) node_modules/.bin/proto-loader-gen-types --longs String --enums String --defaults --oneofs \
	  --includeComments --grpcLib @grpc/grpc-js -I proto -O lib/gen \
	  apiserver/v1/meta.proto apiserver/v1/storage.proto apiserver/v1/auth.proto apiserver/v1/admission.proto \
	  apiserver/v1/watch.proto apiserver/v1/resources.proto apiserver/v1/typed.proto google/rpc/status.proto
	find lib/gen -name '*.ts' -exec sed -i -E "s#from '(\.{1,2}/[^']*)'#from '\1.ts'#" {} +
	touch $@

# The client package's types (packages/client/src/gen/): the Resources API and the typed services of
# the built-in kinds, with the options its loader uses (no --defaults: a field left out stays out,
# as Kubernetes' optional fields need).
packages/client/src/gen/.stamp: $(PROTOS) node_modules/.stamp
	rm -rf packages/client/src/gen
	$(NODE) node_modules/.bin/proto-loader-gen-types --longs String --enums String --oneofs \
	  --includeComments --grpcLib @grpc/grpc-js -I proto -O packages/client/src/gen \
	  apiserver/v1/resources.proto google/rpc/status.proto $(patsubst proto/%,%,$(wildcard proto/apiserver/kinds/*.proto))
	find packages/client/src/gen -name '*.ts' -exec sed -i -E "s#from '(\.{1,2}/[^']*)'#from '\1.ts'#" {} +
	touch $@

# The committed kind data (lib/kinds/generated/, proto/k8s/generated/) from the pinned upstream
# API types; KUBE_API_GIT, KUBE_APIMACHINERY_GIT and KUBE_APIEXTENSIONS_GIT name git directories of
# kubernetes/api, kubernetes/apimachinery and kubernetes/apiextensions-apiserver. Never run by the
# build or the tests.
gen-kinds: deps
	$(NODE) scripts/gen-kinds.ts

# The typed gRPC services of the built-in kinds (proto/apiserver/kinds/) from lib/kinds/builtin/
# and the generated kind data: run it after adding or changing a built-in kind and commit what it
# writes (lib/kinds/gen/typed-api.test.ts fails until then). Never run by the build or the tests.
gen-typed-api: deps
	$(NODE) scripts/gen-typed-api.ts

deps: node_modules/.stamp

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

system-deps:
	@scripts/ensure-system-deps.sh

clean:
	rm -rf lib/gen packages/client/src/gen node_modules
