#!/usr/bin/env bash
# Install everything the test suite and the local cluster need, on Debian 12 as root.
#
#  1. Debian packages (apt-get update only when one is missing): ZooKeeper (pulls a JRE),
#     util-linux (nsenter, unshare, setsid), procps, iproute2, make, python3-venv (the nodes'
#     venvs), and for the test hosts (tools/testhosts.py) systemd-container (systemd-nspawn),
#     openssh-server, openssh-client and nftables (the fault suite's partitions); openssl (the
#     HTTPS health-check tests make a self-signed certificate); bind9-dnsutils (`dig`: the DNS
#     tests ask on the wire), dnsperf (bench/dns_kit.py, bench/dns.py) and dnsmasq-base
#     (bench/dns.py measures our DNS daemons beside dnsmasq in the same run, issue 13's
#     yardstick; -base is the binary alone, without a system service to start); wrk, haproxy
#     and nginx (bench/vips.py's data plane: wrk to nginx direct, through a VIP and through
#     HAProxy, each started there with its own config in a network namespace; nginx is also
#     Admin Router's base); chromium (the web UI's browser tests drive it through Playwright,
#     which never downloads a browser of its own here). Services are not started by the
#     install (policy-rc.d): this machine's sshd, ZooKeeper, nginx and HAProxy stay off; the
#     test hosts start their own.
#  2. .venv made with the machine's python3 (3.11), requirements-dev.txt, pymesos
#     (scripts/install-pymesos.sh) and this project in editable mode.
#
# Idempotent and quiet: step 2 is skipped while .venv/.bootstrap-stamp matches the hash of the
# files that define it; output is shown only when a step fails.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
venv=${VENV:-$root/.venv}
python=${PYTHON:-python3}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

debian_packages=(zookeeper util-linux procps iproute2 make python3-venv systemd-container
                 openssh-server openssh-client nftables openssl bind9-dnsutils dnsperf
                 dnsmasq-base wrk haproxy nginx chromium)

run() {  # run a step quietly; on failure print its output and stop
    local what=$1
    shift
    if ! "$@" >>"$log" 2>&1; then
        echo "bootstrap: $what failed:" >&2
        tail -n 80 "$log" >&2
        exit 1
    fi
}

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# --- 1. Debian packages ------------------------------------------------------------------------
missing=()
for pkg in "${debian_packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap: missing Debian packages (${missing[*]}); run as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Keep packages from starting their services on this machine (sshd, zookeeper).
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "$log" "$policy"' EXIT
    fi
    run "apt-get update" apt-get update -q
    run "apt-get install ${missing[*]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. The virtualenv -------------------------------------------------------------------------
# One bootstrap at a time (two `make` runs at once, or a test calling `make local`).
exec 9<"$root/scripts/bootstrap.sh"
flock 9
stamp_inputs=(requirements.txt requirements-dev.txt pyproject.toml scripts/install-pymesos.sh
              scripts/bootstrap.sh)
want=$( (cat "${stamp_inputs[@]}"; "$python" -c 'import sys; print(sys.version)') | sha256sum |
       cut -d' ' -f1)
stamp=$venv/.bootstrap-stamp

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    # A venv whose interpreter is gone (python3 moved or was upgraded) cannot be repaired in place.
    run "removing a broken $venv" rm -rf "$venv"
fi
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    run "creating $venv with $python" "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input -q)
run "pip install -r requirements-dev.txt" "${pip[@]}" install -r requirements-dev.txt
run "installing pymesos" bash scripts/install-pymesos.sh "$venv/bin/python"
run "pip install -e ." "${pip[@]}" install --no-deps -e .
run "checking imports" "$venv/bin/python" -c \
    'import flask, gunicorn, kazoo, dnslib, numpy, requests, pymesos, mesoshttp, tomli_w, ansible, molecule'
echo "$want" >"$stamp"
