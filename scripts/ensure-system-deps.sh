#!/usr/bin/env bash
# Makes sure the real etcd and redis-server are on PATH, and (for the tests) python3 with gRPC for
# the Python client test and the official Kubernetes Python client: installs the Debian packages
# when running as root with apt-get, otherwise says exactly what to install.
# With the argument `up`, a server that ETCD_ENDPOINTS / REDIS_URL points at is not needed.
set -euo pipefail
mode="${1:-test}"
missing=()
if [ "$mode" != up ] || [ -z "${ETCD_ENDPOINTS:-}" ]; then
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
fi
if [ "$mode" != up ] || [ -z "${REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi
if [ "$mode" != up ]; then
  # The Python client test (test/e2e/python-client.test.ts): Debian's python3 with its gRPC packages.
  py=/usr/bin/python3
  [ -x "$py" ] || py=python3
  "$py" -c 'import grpc' >/dev/null 2>&1 || missing+=(python3-grpcio)
  "$py" -c 'import grpc_tools.protoc' >/dev/null 2>&1 || missing+=(python3-grpc-tools)
  "$py" -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)
  # test/e2e/python-kubernetes-client.test.ts: the official client, which reads built-in objects.
  "$py" -c 'import kubernetes' >/dev/null 2>&1 || missing+=(python3-kubernetes)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system services on the default ports; the project runs its own servers.
  for svc in etcd redis-server; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
  done
  exit 0
fi
echo "missing: ${missing[*]}. Install them, e.g.: sudo apt-get install ${missing[*]}" >&2
echo "(or point ETCD_ENDPOINTS and REDIS_URL at servers you run, for make up)" >&2
exit 1
