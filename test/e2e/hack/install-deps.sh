#!/usr/bin/env bash
# Installs the Debian packages the e2e harness runs (etcd 3.4, openssl, curl)
# when they are missing. Needs root and apt-get; does nothing if all present.
set -euo pipefail
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo ">> apt-get install -y ${missing[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
