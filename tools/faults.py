"""Fault injection on test hosts (tools/testhosts.py): signals to services, packet drops, ZK probes.

Used by the fault-injection suite (tests/integration/faults; the scenarios are in
docs/fault-scenarios.md). Every fault acts on one node of one cluster and is undone by its
counterpart:

- `signal_unit(cluster, ip, unit, sig, who)`: `systemctl kill` inside the node (SIGKILL, SIGTERM,
  SIGSTOP, SIGCONT) to the unit's main process or its whole cgroup;
  `kill_daemon(cluster, ip, unit, sig)`: a gunicorn daemon's arbiter and workers only (an agent's
  executors and tasks live on).
- `drop(cluster, node, to=…, from_=…)`: nftables rules in the node's network namespace (table
  `inet dcos_faults`, run from this host with `ip netns exec`) dropping packets the node sends to
  or receives from the given addresses: one-way or both ways, per peer. `undrop` deletes the
  table; ssh from this host (198.18.0.1) keeps working unless the host's address is named.
- `zk_mode(ip)`: the `srvr` four-letter word from this host ("leader", "follower", "standalone"
  or None when the server does not serve).

Processes are addressed by PID (systemd's MainPID, its children), never by a broad name.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterable

from tools import testhosts

TABLE = "dcos_faults"
SSH_TIMEOUT = 30.0


class FaultError(RuntimeError):
    """A fault could not be injected or removed (ssh or nft failed)."""


def on_node(cluster: str, address: str, script: str, timeout: float = SSH_TIMEOUT) -> str:
    """Run a shell `script` as root on the node at `address`; its stdout (raises on failure)."""
    argv = testhosts.ssh_argv(cluster, address, "bash", "-c", _quote(script))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise FaultError(f"{address}: {script!r} took more than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise FaultError(f"{address}: {script!r} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _quote(script: str) -> str:
    """One shell word for the remote shell that ssh hands its command line to."""
    return "'" + script.replace("'", "'\\''") + "'"


def main_pid(cluster: str, address: str, unit: str) -> int | None:
    """systemd's MainPID of `unit` on the node (None while it has none)."""
    out = on_node(cluster, address, f"systemctl show -p MainPID --value {unit}").strip()
    pid = int(out) if out.isdigit() else 0
    return pid or None


def unit_active(cluster: str, address: str, unit: str) -> bool:
    out = on_node(cluster, address, f"systemctl is-active {unit} || true")
    return out.strip() == "active"


def signal_unit(
    cluster: str, address: str, unit: str, sig: signal.Signals, who: str = "all"
) -> None:
    """`systemctl kill --kill-who=WHO -s SIG UNIT` in the node (who: main or all)."""
    if who not in ("main", "all"):
        raise ValueError(f"who must be main or all, not {who!r}")
    on_node(cluster, address, f"systemctl kill --kill-who={who} -s {sig.name} {unit}")


def kill_daemon(cluster: str, address: str, unit: str, sig: signal.Signals) -> list[int]:
    """Signal a gunicorn daemon's arbiter (the unit's MainPID) and its children running the same
    command line (its workers), not its other children; the PIDs signalled (node's namespace)."""
    script = f"""
set -eu
main=$(systemctl show -p MainPID --value {unit})
[ "$main" != 0 ]
pids=$main
for child in $(pgrep -P "$main" || true); do
    if cmp -s /proc/$child/cmdline /proc/$main/cmdline; then pids="$pids $child"; fi
done
kill -s {sig.name.removeprefix("SIG")} $pids
echo $pids
"""
    return [int(p) for p in on_node(cluster, address, script).split()]


def child_pids(cluster: str, address: str, pid: int, name: str | None = None) -> list[int]:
    """Children of `pid` in the node; only those whose process name is `name` when given."""
    match = f" -x {name}" if name else ""
    out = on_node(cluster, address, f"pgrep -P {pid}{match} || true")
    return [int(p) for p in out.split()]


def signal_pids(cluster: str, address: str, pids: Iterable[int], sig: signal.Signals) -> None:
    """`kill -s SIG PID…` in the node (PIDs of the node's own namespace)."""
    numbers = " ".join(str(int(p)) for p in pids)
    if numbers:
        on_node(cluster, address, f"kill -s {sig.name.removeprefix('SIG')} {numbers}")


# --- packet drops (nftables in the node's netns) --------------------------------------------------


def _addresses(addresses: Iterable[str]) -> list[str]:
    return [testhosts.validate_address(a) for a in addresses]


def ruleset(to: Iterable[str] = (), from_: Iterable[str] = ()) -> str:
    """An `nft -f` script for table inet dcos_faults dropping what the node sends to `to` and
    receives from `from_` (the table is replaced as a whole)."""
    out, into = _addresses(to), _addresses(from_)
    lines = [
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        f"table inet {TABLE} {{",
        "  chain output {",
        "    type filter hook output priority 0; policy accept;",
    ]
    if out:
        lines.append(f"    ip daddr {{ {', '.join(out)} }} drop")
    lines += [
        "  }",
        "  chain input {",
        "    type filter hook input priority 0; policy accept;",
    ]
    if into:
        lines.append(f"    ip saddr {{ {', '.join(into)} }} drop")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def _nft(cluster: str, node: str, script: str) -> str:
    netns = testhosts.netns_name(cluster, node)
    argv = ["ip", "netns", "exec", netns, "nft", "-f", "-"]
    done = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise FaultError(f"nft in {netns} failed: {done.stderr.strip()}\n{script}")
    return done.stdout


def drop(cluster: str, node: str, to: Iterable[str] = (), from_: Iterable[str] = ()) -> None:
    """Drop packets `node` sends to `to` and receives from `from_` (replaces earlier drops)."""
    _nft(cluster, node, ruleset(to, from_))


def undrop(cluster: str, node: str) -> None:
    """Remove every drop of `node` (idempotent)."""
    _nft(cluster, node, f"table inet {TABLE}\ndelete table inet {TABLE}\n")


def has_drops(cluster: str, node: str) -> bool:
    netns = testhosts.netns_name(cluster, node)
    argv = ["ip", "netns", "exec", netns, "nft", "list", "tables"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise FaultError(f"nft list tables in {netns} failed: {done.stderr.strip()}")
    return f"table inet {TABLE}" in done.stdout


# --- ZooKeeper probes ---------------------------------------------------------------------------


def four_letter(address: str, word: str, port: int = 2181, timeout: float = 1.0) -> str | None:
    """A ZooKeeper four-letter word's answer, or None when the server does not answer."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(word.encode())
            chunks = []
            while chunk := conn.recv(4096):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks).decode(errors="replace")


def zk_mode(address: str, port: int = 2181, timeout: float = 1.0) -> str | None:
    """ "leader", "follower", "standalone" … from `srvr`; None when the server is not serving."""
    answer = four_letter(address, "srvr", port, timeout)
    if not answer:
        return None
    for line in answer.splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return None
