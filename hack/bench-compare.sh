#!/usr/bin/env bash
# memgraph vs Clusterpedia's internalstorage (SQLite and PostgreSQL), side by side, in one run:
#
#   1. in-process: storage.test -bench 'Compare/Backend=<b>/' once per backend (memgraph,
#      sqlite, postgres) on the same fleet, same calls, same list objects
#      (storage/compare_bench_test.go); a throwaway PostgreSQL 15 server is started on
#      127.0.0.1 for the run and removed afterwards (also on failure or Ctrl-C);
#   2. CPU and heap profiles of memgraph's List path (FullListPods);
#   3. end to end: the same queries over HTTPS against binding-apiserver with memgraph and
#      with internalstorage/SQLite (test/e2e/bench_test.go; skipped with BENCH_E2E=0 or
#      when the e2e prerequisites are missing);
#   4. benchstat, and docs/benchmarks-vs-internalstorage.md (the generated section between
#      the BEGIN/END GENERATED markers; the hand-written analysis around it is kept).
#
#   make bench-compare                     (= hack/bench-compare.sh)
#   BENCH_COUNT=6 BENCH_FLEET=small BENCH_E2E=0 hack/bench-compare.sh   quick run
#
# Environment: BENCH_COUNT (default 6), BENCH_TIME (go -benchtime, default 1s),
# BENCH_FLEET (empty = fleet.Bench(), 10 x 20,000 objects; "small" = 10 x 1,000),
# BENCH_BACKENDS (default "memgraph sqlite postgres"), BENCH_E2E (default 1),
# E2E_BENCH_PODS and E2E_BENCH_CLUSTERS (the e2e fleet: pods in the member cluster, PediaClusters
# syncing it), BENCH_DOC (output doc).
# Raw results, profiles and logs: _output/bench-compare-<UTC time>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GOTOOLCHAIN="${GO_TOOLCHAIN:-go1.23.10}"
export CGO_ENABLED=1
COUNT="${BENCH_COUNT:-6}"
BENCHTIME="${BENCH_TIME:-1s}"
BACKENDS="${BENCH_BACKENDS:-memgraph sqlite postgres}"
DOC="${BENCH_DOC:-docs/benchmarks-vs-internalstorage.md}"
BENCHSTAT="${BENCHSTAT:-$HOME/.cache/memgraph/bin/benchstat}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
[[ -x "$PG_BIN/initdb" ]] || PG_BIN="$(dirname "$(command -v initdb 2>/dev/null || echo /usr/local/bin/initdb)")"

if [[ ! -f "${CLUSTERPEDIA_REPO:-$ROOT/clusterpedia}/staging/src/github.com/clusterpedia-io/api/go.mod" ]]; then
  echo "SKIP bench-compare: no Clusterpedia v0.9.1 source at ${CLUSTERPEDIA_REPO:-$ROOT/clusterpedia} (internalstorage is built from it)" >&2
  exit 0
fi
if [[ ! -x "$BENCHSTAT" ]]; then
  echo "installing benchstat into $(dirname "$BENCHSTAT")" >&2
  GOTOOLCHAIN=local GOBIN="$(dirname "$BENCHSTAT")" go install golang.org/x/perf/cmd/benchstat@latest
fi
GOWORK="$(hack/build.sh gowork)"
export GOWORK

OUT="$ROOT/_output/bench-compare-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
RAW="$OUT/bench.txt"
: >"$RAW"
log() { echo "bench-compare: $*" >&2; }

# ---------------------------------------------------------------- PostgreSQL
PGDATA_DIR=""  # temp dir: data/, the socket, the server log
PG_STARTED=""
as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_postgres() {
  if [[ -n "$PG_STARTED" ]]; then
    cp "$PGDATA_DIR/postgres.log" "$OUT/postgres.log" 2>/dev/null || true
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    PG_STARTED=""
  fi
  if [[ -n "$PGDATA_DIR" ]]; then rm -rf "$PGDATA_DIR"; PGDATA_DIR=""; fi
  unset MEMGRAPH_BENCH_POSTGRES_DSN
}
cleanup() { local rc=$?; stop_postgres; exit $rc; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_postgres() {
  PGDATA_DIR="$(mktemp -d /tmp/memgraph-bench-pg.XXXXXX)"
  if [[ "$(id -u)" == 0 ]]; then chown postgres "$PGDATA_DIR"; fi
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >"$OUT/postgres-initdb.log" 2>&1
  # synchronous_commit=off: commits do not wait for the WAL flush (fsync stays on), what a
  # bulk-sync deployment would choose; it only makes internalstorage faster.
  PG_STARTED=1
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDATA_DIR -c synchronous_commit=off -c shared_buffers=256MB" start >/dev/null
  as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres memgraph_bench
  export MEMGRAPH_BENCH_POSTGRES_DSN="host=127.0.0.1 port=$port user=postgres dbname=memgraph_bench sslmode=disable"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $PGDATA_DIR)"
}

machine_note() {
  echo "$(go version | awk '{print $3}') on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---------------------------------------------------------------- 1. in-process
export MEMGRAPH_BENCH_FLEET="${BENCH_FLEET:-}"
log "building storage.test"
go test -c -o "$OUT/storage.test" ./storage/
echo "# machine: $(machine_note) (start)" >>"$RAW"
for be in $BACKENDS; do
  if [[ "$be" == postgres ]]; then
    if [[ -x "$PG_BIN/initdb" ]]; then start_postgres; else log "SKIP postgres: no initdb in $PG_BIN"; continue; fi
  fi
  log "Backend=$be: count=$COUNT benchtime=$BENCHTIME fleet=${BENCH_FLEET:-bench}"
  echo "# Backend=$be start: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
  (cd storage && "$OUT/storage.test" -test.run '^$' -test.bench "^BenchmarkCompare\$/^Backend=$be\$/" \
    -test.benchmem -test.count "$COUNT" -test.benchtime "$BENCHTIME" -test.timeout 180m) 2>&1 | tee -a "$RAW" >&2
  echo "# Backend=$be end: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"
  [[ "$be" == postgres ]] && stop_postgres
done
echo "# machine: $(machine_note) (end of in-process)" >>"$RAW"

# ---------------------------------------------------------------- 2. profiles
if [[ " $BACKENDS " == *" memgraph "* ]]; then
  log "profiles of memgraph's List path (FullListPods, FullListPodsMetadataOnly)"
  (cd storage && "$OUT/storage.test" -test.run '^$' -test.bench '^BenchmarkCompare$/^Backend=memgraph$/^Query=FullListPods$' \
    -test.benchtime 5x -test.cpuprofile "$OUT/cpu-fulllist.prof" -test.memprofile "$OUT/mem-fulllist.prof" -test.memprofilerate 65536) >"$OUT/profile-run.txt" 2>&1 || true
  go tool pprof -top -nodecount 25 -focus 'resourceStorage..List|forEachItem' "$OUT/storage.test" "$OUT/cpu-fulllist.prof" >"$OUT/cpu-fulllist.txt" 2>/dev/null || true
  go tool pprof -top -cum -nodecount 30 -focus 'resourceStorage..List|forEachItem' "$OUT/storage.test" "$OUT/cpu-fulllist.prof" >"$OUT/cpu-fulllist-cum.txt" 2>/dev/null || true
  go tool pprof -sample_index=alloc_space -top -nodecount 20 -focus 'resourceStorage..List|forEachItem' "$OUT/storage.test" "$OUT/mem-fulllist.prof" >"$OUT/mem-fulllist.txt" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 3. end to end
E2E_OUT="$OUT/e2e.txt"
if [[ "${BENCH_E2E:-1}" != 0 ]]; then
  log "end to end: building plugin and binding-apiserver"
  if make --no-print-directory e2e-deps kube-binaries build-plugin build-binding-apiserver >"$OUT/e2e-build.log" 2>&1; then
    echo "# machine: $(machine_note) (start of e2e)" >"$E2E_OUT"
    E2E=1 MEMGRAPH_E2E_BENCH_OUT="$E2E_OUT" go test -count=1 -v -timeout 60m -run '^TestE2EBenchCompare$' ./test/e2e/ 2>&1 | tee "$OUT/e2e.log" >&2 || log "e2e benchmark failed (see $OUT/e2e.log)"
  else
    log "SKIP end to end: build failed (see $OUT/e2e-build.log)"
  fi
fi

# ---------------------------------------------------------------- 4. report
"$BENCHSTAT" -col /Backend "$RAW" >"$OUT/benchstat.txt" 2>&1 || true
cat "$OUT/benchstat.txt" >&2
python3 - "$RAW" "$OUT/benchstat.txt" "$E2E_OUT" "$DOC" "$OUT" "$(machine_note)" <<'PY'
import re, sys, os, statistics, datetime
raw, bstat, e2e, doc, outdir, machine = sys.argv[1:7]

# ---- in-process results: name -> unit -> [values]
res = {}
loads = {}
notes = []
for line in open(raw):
    m = re.match(r'^# load Backend=(\S+) fleet=(\S+): (\d+) objects \((\d+) MB of JSON\) in (\S+), (\d+) objects/s', line)
    if m:
        loads[m.group(1)] = m.groups()
        continue
    if line.startswith('# '):
        notes.append(line[2:].strip())
        continue
    m = re.match(r'^BenchmarkCompare/Backend=(\w+)/((?:Query|Op)=\w+)(?:-\d+)?\s+\d+\s+(.*)$', line)
    if not m:
        continue
    be, q, rest = m.groups()
    f = rest.split()
    for i in range(0, len(f) - 1, 2):
        try:
            v = float(f[i])
        except ValueError:
            continue
        res.setdefault((q, be), {}).setdefault(f[i + 1], []).append(v)

def med(q, be, unit='ns/op'):
    v = res.get((q, be), {}).get(unit)
    return statistics.median(v) if v else None

def fmt_t(ns):
    if ns is None: return '—'
    if ns >= 1e9: return '%.2f s' % (ns / 1e9)
    if ns >= 1e6: return '%.1f ms' % (ns / 1e6)
    if ns >= 1e3: return '%.1f µs' % (ns / 1e3)
    return '%.0f ns' % ns

def fmt_r(r):
    if r is None: return '—'
    return ('%.0f×' % r) if r >= 10 else ('%.1f×' % r)

queries = [
    ('Query=NamespaceLabelLimit500', 'namespace + label selector, one cluster, limit 500', 20),
    ('Query=ClusterPodsPagedBy500', "one cluster's pods paged by 500 to the end", 20),
    ('Query=OrderByCreatedDescLimit50', 'orderby created_at desc, limit 50 (all pods)', 20),
    ('Query=OwnerSeniority1', 'owner seniority 1 of a Deployment (its Pods)', 20),
    ('Query=FuzzyNameLimit500', 'fuzzy name `web`, one cluster, limit 500', 20),
    ('Query=FieldSelectorLimit500', 'field selector `status.phase=Running,spec.nodeName=<node>`, one cluster, limit 500', 20),
    ('Query=CollectionWorkloadsLimit100', 'collection resource `workloads`, limit 100', 20),
    ('Query=FullListPods', 'full list of all pods', 5),
    ('Query=FullListPodsMetadataOnly', 'the same, metadata only', 5),
    ('Query=Get', 'Get of one pod (into core.Pod)', None),
    ('Op=GetResourceVersions', 'GetResourceVersions of one cluster', 20),
    ('Op=CleanCluster', 'CleanCluster of a 2,000-object cluster', None),
]
backends = [b for b in ('memgraph', 'sqlite', 'postgres') if any(k[1] == b for k in res)]
others = [b for b in backends if b != 'memgraph']
L = []
P = L.append
P('<!-- BEGIN GENERATED by hack/bench-compare.sh on %s; do not edit by hand -->' % datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC'))
P('')
P('### Run')
P('')
P('* Machine: %s (at the end of the run).' % machine)
for n in notes:
    if n.startswith('machine:') or 'load average' in n:
        P('* `%s`' % n)
for be, g in sorted(loads.items()):
    P('* Loaded the fleet into %s: %s objects (%s MB of JSON) in %s — %s objects/s through `Create`.' % (be, g[2], g[3], g[4], g[5]))
P('')
P('### In-process (medians of sec/op; ratio = internalstorage time / memgraph time)')
P('')
hdr = '| query | items | ' + ' | '.join(backends) + ' | ' + ' | '.join('%s / memgraph' % o for o in others) + ' | target | met |'
P(hdr)
P('|' + '---|' * (hdr.count('|') - 1))
for q, label, target in queries:
    mg = med(q, 'memgraph')
    if mg is None and not any(med(q, o) for o in others):
        continue
    items = med(q, 'memgraph', 'items')
    itemcell = '' if items is None else '%d' % items
    for o in others:
        oi = med(q, o, 'items')
        if oi is not None and items is not None and oi != items:
            itemcell += ' (%s: %d)' % (o, oi)
    ratios = [(med(q, o) / mg) if (mg and med(q, o)) else None for o in others]
    met = '—'
    if target:
        known = [r for r in ratios if r is not None]
        met = ('**yes**' if known and all(r >= target for r in known) else '**no**') if known else '—'
    P('| %s | %s | %s | %s | %s | %s |' % (label, itemcell, ' | '.join(fmt_t(med(q, b)) for b in backends),
        ' | '.join(fmt_r(r) for r in ratios), ('≥ %d×' % target) if target else '—', met))
P('')
P('Writes on a separate 2,000-object cluster while the fleet stays loaded (objects/s, medians; ratio = memgraph / internalstorage):')
P('')
hdr = '| operation | ' + ' | '.join(backends) + ' | ' + ' | '.join('memgraph / %s' % o for o in others) + ' | target | met |'
P(hdr)
P('|' + '---|' * (hdr.count('|') - 1))
for q, label in (('Op=Create', 'Create'), ('Op=Update', 'Update')):
    mg = med(q, 'memgraph', 'objects/s')
    if mg is None:
        continue
    ratios = [(mg / med(q, o, 'objects/s')) if med(q, o, 'objects/s') else None for o in others]
    known = [r for r in ratios if r is not None]
    met = ('**yes**' if all(r >= 10 for r in known) else '**no**') if known else '—'
    P('| %s | %s | %s | ≥ 10× | %s |' % (label, ' | '.join(('%.0f' % med(q, b, 'objects/s')) if med(q, b, 'objects/s') else '—' for b in backends),
        ' | '.join(fmt_r(r) for r in ratios), met))
P('')
hj = med('Op=Memory', 'memgraph', 'inuse/json')
if hj is not None:
    P('Memory (memgraph, what loading the fleet added to the heap, after a GC): heap in use %.0f B per object (live objects %.0f B) against %.0f B of JSON per object = **%.2f×** the JSON in use, %.2f× live (target ≤ 2×: **%s**).' % (
        med('Op=Memory', 'memgraph', 'inuse-B/object'), med('Op=Memory', 'memgraph', 'live-B/object'), med('Op=Memory', 'memgraph', 'json-B/object'),
        hj, med('Op=Memory', 'memgraph', 'live/json'), 'yes' if hj <= 2 else 'no'))
    P('')

# ---- e2e
rows = {}
e2e_notes = []
if os.path.exists(e2e):
    for line in open(e2e):
        if line.startswith('#'):
            e2e_notes.append(line[1:].strip())
            continue
        kv = dict(x.split('=', 1) for x in line.split() if '=' in x)
        if 'query' in kv:
            rows.setdefault(kv['query'].replace('~', ' '), {})[kv['storage']] = kv
if rows:
    P('### End to end through binding-apiserver (HTTPS, JSON)')
    P('')
    for n in e2e_notes:
        P('* %s' % n)
    P('')
    P('| query | items | memgraph median | memgraph p99 | sqlite median | sqlite p99 | ratio (median) | ratio (p99) | target | met |')
    P('|---|---|---|---|---|---|---|---|---|---|')
    for q, d in rows.items():
        mg, sq = d.get('memgraph'), d.get('internal')
        if not mg or not sq:
            continue
        rm = float(sq['median_ms']) / float(mg['median_ms'])
        rp = float(sq['p99_ms']) / float(mg['p99_ms'])
        items = mg.get('items', '')
        if sq.get('items') != mg.get('items'):
            items += ' (sqlite: %s)' % sq.get('items')
        P('| %s | %s | %s ms | %s ms | %s ms | %s ms | %s | %s | ≥ 5× | %s |' % (q, items, mg['median_ms'], mg['p99_ms'], sq['median_ms'], sq['p99_ms'],
            fmt_r(rm), fmt_r(rp), '**yes**' if rm >= 5 else '**no**'))
    P('')

P('<details><summary>benchstat (all units, confidence intervals)</summary>')
P('')
P('```')
P(open(bstat).read().rstrip())
P('```')
P('</details>')
P('')
for name, title in (('cpu-fulllist.txt', 'CPU profile of memgraph FullListPods (flat, focus resourceStorage.List)'),
                    ('cpu-fulllist-cum.txt', 'same, cumulative'),
                    ('mem-fulllist.txt', 'allocations of memgraph FullListPods (alloc_space)')):
    p = os.path.join(outdir, name)
    if os.path.exists(p) and os.path.getsize(p) > 0:
        P('<details><summary>%s</summary>' % title)
        P('')
        P('```')
        P('\n'.join(open(p).read().rstrip().split('\n')[:40]))
        P('```')
        P('</details>')
        P('')
P('Raw results: `%s` (not committed).' % os.path.relpath(outdir))
P('')
P('<!-- END GENERATED -->')
gen = '\n'.join(L)

if os.path.exists(doc):
    s = open(doc).read()
    a, b = s.find('<!-- BEGIN GENERATED'), s.find('<!-- END GENERATED -->')
    if a >= 0 and b >= 0:
        s = s[:a] + gen + s[b + len('<!-- END GENERATED -->'):]
    else:
        s = s.rstrip() + '\n\n## Results\n\n' + gen + '\n'
else:
    s = '# memgraph vs internalstorage\n\n## Results\n\n' + gen + '\n'
open(doc, 'w').write(s)
PY
log "wrote $DOC (raw results in $OUT)"
