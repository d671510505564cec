# Shared helpers for the e2e scripts (sourced, not executed). Everything binds
# to 127.0.0.1 only.

E2E_HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_ROOT="$(cd "$E2E_HACK_DIR/../../.." && pwd)"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found on PATH (test/e2e/hack/install-deps.sh installs etcd-server, openssl and curl)"
  done
}

# free_port prints a TCP port on 127.0.0.1 nobody listens on, never one this
# shell handed out before. Ports come from 20000-27999, below Linux's ephemeral
# range (32768-60999): a port from that range can be taken by any outgoing
# connection between this check and the server's bind ("address already in use").
# (The Go tests' freePort uses 28000-31999.)
_E2E_PORTS=" "
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 8000))
    [[ "$_E2E_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      _E2E_PORTS+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# wait_for SECONDS DESCRIPTION CMD... — polls CMD every 0.2 s; fails early if
# the optional WAIT_PID process dies.
wait_for() {
  local secs="$1" what="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${WAIT_PID:-}" ]] && ! kill -0 "$WAIT_PID" 2>/dev/null; then
      die "$what: process $WAIT_PID exited (see ${WAIT_LOG:-its log})"
    fi
    (( SECONDS < deadline )) || die "timed out after ${secs}s waiting for $what (see ${WAIT_LOG:-logs})"
    sleep 0.2
  done
}

# stop_pids PID... — TERM, up to 10 s grace, then KILL. Only the given PIDs.
stop_pids() {
  local p i alive
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 1 50); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || return 0
    sleep 0.2
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# https_ok URL — 200 from URL with the admin client certificate.
https_ok() {
  curl -sf --max-time 3 --cacert "$CA_FILE" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" "$1" >/dev/null
}

kube_bin_dir() {
  local v="${KUBE_VERSION:-v1.32.13}"
  echo "${KUBE_BIN:-${MEMGRAPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memgraph}/kube-$v/bin}"
}
