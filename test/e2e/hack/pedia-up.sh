#!/usr/bin/env bash
# Starts one binding-apiserver against an environment made by kube-up.sh and
# supervises it. Several may run at once (different PEDIA_NAME), e.g. memgraph
# and internalstorage side by side: each syncs the same PediaClusters.
#
# Serves HTTPS on 127.0.0.1:<free port> with the e2e serving cert, accepts the
# admin client certificate (--client-ca-file), and talks to kube-apiserver with
# the admin kubeconfig. When /readyz answers it writes
# $E2E_DIR/pedia-$PEDIA_NAME.env, creates $E2E_DIR/pedia-$PEDIA_NAME.ready,
# prints READY and waits; TERM/INT/EXIT or the server dying stops it (by PID).
#
# Environment:
#   E2E_DIR             the kube-up.sh work dir (required)
#   STORAGE_NAME        --storage-name (default: internal)
#   STORAGE_CONFIG      --storage-config file. For STORAGE_NAME=internal and no
#                       config, a SQLite config in the work dir is generated.
#   STORAGE_PLUGINS     plugin dir for the host (default: none). For
#                       STORAGE_NAME=memgraph it defaults to a dir holding only
#                       ./plugins/memgraph.so (the host opens every file there).
#   PEDIA_NAME          instance name (default: $STORAGE_NAME)
#   BINDING_APISERVER   host binary (default: ./bin/binding-apiserver)
#   PEDIA_ARGS          extra flags, word-split (e.g. "--feature-gates=... -v=4")
#   PEDIA_READY_TIMEOUT seconds to wait for /readyz (default 120)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need curl
[[ -n "${E2E_DIR:-}" && -f "$E2E_DIR/kube.env" ]] || die "E2E_DIR must point at a running kube-up.sh environment (no kube.env)"
# shellcheck disable=SC1091
source "$E2E_DIR/kube.env"
STORAGE_NAME="${STORAGE_NAME:-internal}"
PEDIA_NAME="${PEDIA_NAME:-$STORAGE_NAME}"
BINDING_APISERVER="${BINDING_APISERVER:-$E2E_ROOT/bin/binding-apiserver}"
[[ -x "$BINDING_APISERVER" ]] || die "no binding-apiserver at $BINDING_APISERVER (make build-components)"

DIR="$E2E_DIR/pedia-$PEDIA_NAME"
mkdir -p "$DIR"

STORAGE_CONFIG="${STORAGE_CONFIG:-}"
if [[ -z "$STORAGE_CONFIG" && "$STORAGE_NAME" == internal ]]; then
  STORAGE_CONFIG="$DIR/internalstorage.yaml"
  cat >"$STORAGE_CONFIG" <<EOF
type: sqlite
dsn: "file:$DIR/clusterpedia.db?_journal_mode=WAL&_busy_timeout=5000"
EOF
fi
if [[ -z "${STORAGE_PLUGINS:-}" && "$STORAGE_NAME" == memgraph ]]; then
  STORAGE_PLUGINS="$DIR/plugins"
  mkdir -p "$STORAGE_PLUGINS"
  [[ -f "$E2E_ROOT/plugins/memgraph.so" ]] || die "no plugins/memgraph.so (make build-plugin)"
  cp "$E2E_ROOT/plugins/memgraph.so" "$STORAGE_PLUGINS/"
fi

PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$PID" ]] && stop_pids "$PID"
  rm -f "$E2E_DIR/pedia-$PEDIA_NAME.ready"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

PORT="$(free_port)"
URL="https://127.0.0.1:$PORT"
LOG="$DIR/binding-apiserver.log"
args=(
  --bind-address=127.0.0.1 --secure-port="$PORT"
  --cert-dir="$DIR/certs"
  --tls-cert-file="$SERVING_CERT" --tls-private-key-file="$SERVING_KEY"
  --client-ca-file="$CA_FILE"
  --kubeconfig="$KUBECONFIG_FILE"
  --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE"
  --storage-name="$STORAGE_NAME"
)
[[ -n "$STORAGE_CONFIG" ]] && args+=(--storage-config="$STORAGE_CONFIG")
# shellcheck disable=SC2206
[[ -n "${PEDIA_ARGS:-}" ]] && args+=($PEDIA_ARGS)

log "binding-apiserver '$PEDIA_NAME' (--storage-name=$STORAGE_NAME${STORAGE_PLUGINS:+, STORAGE_PLUGINS=$STORAGE_PLUGINS}) on $URL"
# Appended: a restart with the same PEDIA_NAME keeps the earlier run's log.
echo "==== $(date '+%F %T') starting binding-apiserver '$PEDIA_NAME' on $URL" >>"$LOG"
CLUSTERPEDIA_NAMESPACE=clusterpedia-system STORAGE_PLUGINS="${STORAGE_PLUGINS:-}" \
  "$BINDING_APISERVER" "${args[@]}" >>"$LOG" 2>&1 &
PID=$!
WAIT_PID=$PID WAIT_LOG="$LOG" wait_for "${PEDIA_READY_TIMEOUT:-120}" "binding-apiserver /readyz" https_ok "$URL/readyz"

cat >"$E2E_DIR/pedia-$PEDIA_NAME.env" <<EOF
PEDIA_NAME="$PEDIA_NAME"
PEDIA_URL="$URL"
PEDIA_PID="$PID"
PEDIA_LOG="$LOG"
STORAGE_NAME="$STORAGE_NAME"
STORAGE_CONFIG="$STORAGE_CONFIG"
STORAGE_PLUGINS="${STORAGE_PLUGINS:-}"
SUPERVISOR_PID="$$"
EOF
touch "$E2E_DIR/pedia-$PEDIA_NAME.ready"
echo "READY $URL"

set +e
wait "$PID"
rc=$?
PID=""
log "binding-apiserver '$PEDIA_NAME' exited (rc=$rc), see $LOG"
exit 1
