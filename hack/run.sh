#!/usr/bin/env bash
# make run: starts Clusterpedia's binding-apiserver with the memgraph storage
# layer against the host cluster in $KUBECONFIG, on 127.0.0.1, and prints how
# to query it. Ctrl-C stops it.
#
# The host cluster is where Clusterpedia's CRDs and PediaClusters live; the
# CRDs must be installed first:
#     kubectl apply -k clusterpedia/kustomize/crds
# Then create PediaClusters for the member clusters to sync (see
# clusterpedia/examples/pediacluster.yaml). binding-apiserver syncs them itself
# (no clustersynchro-manager needed).
#
# The plugin and binding-apiserver must be built (make run does that first:
# make build-plugin build-binding-apiserver).
#
# Environment:
#   KUBECONFIG        host cluster kubeconfig (required; the first file of a list is used)
#   PORT              HTTPS port on 127.0.0.1 (default 8443)
#   MEMGRAPH_CONFIG   --storage-config file (default: generated _output/run/memgraph.yaml:
#                     persistence in _output/run/memgraph-data, extension API on
#                     127.0.0.1:$MEMGRAPH_API_PORT)
#   MEMGRAPH_API_PORT memgraph's own HTTP port (graph API, /metrics) (default 8790)
#   CLUSTERPEDIA_NAMESPACE  namespace of Clusterpedia's Secrets (default clusterpedia-system)
#   KUBECTL           kubectl to use for the pre-flight checks (default: the cached
#                     v1.32.13 from make kube-binaries, else kubectl on PATH)
#   RUN_DIR           state dir (default _output/run): certs, plugin dir, config, data, log
#   PEDIA_ARGS        extra binding-apiserver flags (word-split), e.g. "-v=4"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${RUN_DIR:-$ROOT/_output/run}"
PORT="${PORT:-8443}"
MEMGRAPH_API_PORT="${MEMGRAPH_API_PORT:-8790}"
BINDING_APISERVER="${BINDING_APISERVER:-$ROOT/bin/binding-apiserver}"
PLUGIN="${MEMGRAPH_PLUGIN:-$ROOT/plugins/memgraph.so}"
RESOURCES=/apis/clusterpedia.io/v1beta1/resources

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------- pre-flight
# "hack/run.sh check" runs only these checks (make run does it before building).
CHECK_ONLY=""; [[ "${1:-}" == check ]] && CHECK_ONLY=1
[[ -n "${KUBECONFIG:-}" ]] || die "KUBECONFIG is not set.
  make run starts binding-apiserver against the host cluster that holds Clusterpedia's
  CRDs and PediaClusters. Point KUBECONFIG at it, e.g.
      KUBECONFIG=~/.kube/config make run
  (no cluster at hand? make demo starts a local one with a seeded fleet)"
KC="${KUBECONFIG%%:*}"
[[ -f "$KC" ]] || die "KUBECONFIG file '$KC' does not exist"
KC="$(cd "$(dirname "$KC")" && pwd)/$(basename "$KC")"
command -v openssl >/dev/null || die "openssl not found (needed for the serving certificate)"
command -v curl >/dev/null || die "curl not found"

find_kubectl() {
  local k
  for k in "${KUBECTL:-}" "${MEMGRAPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memgraph}/kube-${KUBE_VERSION:-v1.32.13}/bin/kubectl" "$(command -v kubectl || true)"; do
    [[ -n "$k" && -x "$k" ]] && "$k" version --client >/dev/null 2>&1 && { echo "$k"; return 0; }
  done
  return 1
}
if KUBECTL_BIN="$(find_kubectl)"; then
  kc() { "$KUBECTL_BIN" --kubeconfig "$KC" --request-timeout=10s "$@"; }
  server="$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null || true)"
  if ! out="$(kc get --raw /version 2>&1)"; then
    die "cannot reach the host cluster of KUBECONFIG=$KC (server ${server:-unknown}):
  $out"
  fi
  if ! out="$(kc get crd pediaclusters.cluster.clusterpedia.io -o name 2>&1)"; then
    if [[ "$out" == *NotFound* || "$out" == *"not found"* ]]; then
      die "the Clusterpedia CRDs are not installed in the host cluster ($server). Install them with:
      kubectl apply -k $ROOT/clusterpedia/kustomize/crds"
    fi
    log "warning: cannot check the Clusterpedia CRDs ($out)"
  fi
  ns="${CLUSTERPEDIA_NAMESPACE:-clusterpedia-system}"
  kc get namespace "$ns" >/dev/null 2>&1 || log "note: namespace $ns does not exist in the host cluster (only needed for PediaCluster credentials in Secrets)"
  n="$(kc get pediaclusters.cluster.clusterpedia.io -o name 2>/dev/null | wc -l || true)"
  log "host cluster $server reachable; $n PediaCluster(s)"
else
  # No usable kubectl: check that the server answers at all (any HTTP status).
  server="$(awk '$1 == "server:" {print $2; exit}' "$KC")"
  [[ -n "$server" ]] || die "no cluster server found in $KC"
  code="$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 "$server/version" || true)"
  [[ "$code" != 000 ]] || die "cannot reach the host cluster of KUBECONFIG=$KC (server $server)"
  log "host cluster $server reachable (no usable kubectl for more checks: set KUBECTL=...)"
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free "$PORT" || die "port $PORT on 127.0.0.1 is in use (set PORT=...)"
[[ -z "$CHECK_ONLY" ]] || exit 0
[[ -x "$BINDING_APISERVER" ]] || die "no binding-apiserver at $BINDING_APISERVER (make build-binding-apiserver)"
[[ -f "$PLUGIN" ]] || die "no memgraph plugin at $PLUGIN (make build-plugin)"

# ----------------------------------------------------------- certificates
# A local CA and a serving certificate for 127.0.0.1/localhost, made once and
# renewed when they expire within a day.
PKI="$RUN_DIR/pki"
mkdir -p "$PKI"
if ! openssl x509 -checkend 86400 -noout -in "$PKI/serving.crt" >/dev/null 2>&1 ||
   ! openssl x509 -checkend 86400 -noout -in "$PKI/ca.crt" >/dev/null 2>&1; then
  log "generating a self-signed CA and serving certificate in $PKI"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=memgraph-run-ca" -days 365 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$PKI/ca.crt" 2>/dev/null
  cat >"$PKI/serving.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/serving.key" -subj "/CN=127.0.0.1" -out "$PKI/serving.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/serving.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 365 -sha256 \
    -extfile "$PKI/serving.ext" -out "$PKI/serving.crt" 2>/dev/null
  rm -f "$PKI/serving.csr"
  chmod 600 "$PKI"/*.key
fi

# --------------------------------------------------------- plugin, config
PLUGINS="$RUN_DIR/plugins" # the host opens every file in it: only memgraph.so
mkdir -p "$PLUGINS"
find "$PLUGINS" -mindepth 1 -maxdepth 1 ! -name memgraph.so -exec rm -rf {} +
cmp -s "$PLUGIN" "$PLUGINS/memgraph.so" || cp "$PLUGIN" "$PLUGINS/memgraph.so"

CONFIG="${MEMGRAPH_CONFIG:-}"
if [[ -z "$CONFIG" ]]; then
  CONFIG="$RUN_DIR/memgraph.yaml"
  port_free "$MEMGRAPH_API_PORT" || die "memgraph's API port $MEMGRAPH_API_PORT on 127.0.0.1 is in use (set MEMGRAPH_API_PORT=...)"
  cat >"$CONFIG" <<EOF
# Generated by hack/run.sh (set MEMGRAPH_CONFIG to use your own; see config.yaml).
persistence:
  enabled: true
  dir: $RUN_DIR/memgraph-data
server:
  listenAddress: 127.0.0.1:$MEMGRAPH_API_PORT
EOF
fi
[[ -f "$CONFIG" ]] || die "MEMGRAPH_CONFIG '$CONFIG' does not exist"
API_ADDR="$(sed -n 's/^[[:space:]]*listenAddress:[[:space:]]*"\{0,1\}\([^"#[:space:]]*\).*/\1/p' "$CONFIG" | head -n1)"
API_ADDR="${API_ADDR:-127.0.0.1:8790}"

# ------------------------------------------------------------------- run
LOG="$RUN_DIR/binding-apiserver.log"
URL="https://127.0.0.1:$PORT"
args=(
  --bind-address=127.0.0.1 --secure-port="$PORT"
  --cert-dir="$RUN_DIR/certs"
  --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key"
  --kubeconfig="$KC" --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC"
  --storage-name=memgraph --storage-config="$CONFIG"
)
# shellcheck disable=SC2206
[[ -n "${PEDIA_ARGS:-}" ]] && args+=($PEDIA_ARGS)

PID=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    log "stopping binding-apiserver (pid $PID)"
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting binding-apiserver with memgraph on $URL (log: $LOG)"
echo "==== $(date '+%F %T') hack/run.sh: binding-apiserver on $URL, KUBECONFIG=$KC" >>"$LOG"
CLUSTERPEDIA_NAMESPACE="${CLUSTERPEDIA_NAMESPACE:-clusterpedia-system}" STORAGE_PLUGINS="$PLUGINS" \
  "$BINDING_APISERVER" "${args[@]}" >>"$LOG" 2>&1 &
PID=$!

deadline=$((SECONDS + ${READY_TIMEOUT:-120}))
until curl -sf --max-time 3 --cacert "$PKI/ca.crt" "$URL/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "---- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2
    PID=""
    die "binding-apiserver exited before it was ready"
  fi
  if (( SECONDS >= deadline )); then
    echo "---- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2
    die "binding-apiserver not ready after ${READY_TIMEOUT:-120}s"
  fi
  sleep 0.5
done

K="${KUBECTL_BIN:-kubectl}"
cat <<INFO

binding-apiserver with memgraph is serving on $URL
  host cluster:  KUBECONFIG=$KC
  storage:       $CONFIG (memgraph API, /metrics: http://$API_ADDR)
  log:           $LOG
  serving CA:    $PKI/ca.crt

Query it with your KUBECONFIG credentials (kubectl keeps the user, replaces server and CA):
  $K --kubeconfig $KC --server $URL$RESOURCES --certificate-authority $PKI/ca.crt get deployments -A
  $K --kubeconfig $KC --server $URL$RESOURCES/clusters/<cluster> --certificate-authority $PKI/ca.crt get pods -A
  $K --kubeconfig $KC --server $URL --certificate-authority $PKI/ca.crt get --raw '$RESOURCES/apis/apps/v1/deployments?labelSelector=app%3Dweb&limit=10&withContinue=true'
  $K --kubeconfig $KC --server $URL --certificate-authority $PKI/ca.crt get --raw /apis/clusterpedia.io/v1beta1/collectionresources/workloads
or with curl and a client certificate / token the host cluster accepts:
  curl --cacert $PKI/ca.crt --cert <client.crt> --key <client.key> '$URL$RESOURCES/api/v1/pods?clusters=<cluster>&limit=5'
memgraph's own API (no auth on loopback):
  curl http://$API_ADDR/metrics
  curl 'http://$API_ADDR/api/v1/owners/descendants?cluster=<cluster>&group=apps&version=v1&resource=deployments&namespace=<ns>&name=<name>'

PediaClusters in the host cluster are synced by this process. Ctrl-C stops it.
INFO

set +e
wait "$PID"
rc=$?
PID=""
if (( rc == 0 )); then # it got the terminal's SIGINT too and shut down cleanly
  log "binding-apiserver stopped"
  exit 0
fi
echo "---- last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2
die "binding-apiserver exited (rc=$rc)"
