"""The VIP table Minuteman and the DNS proxy share (issue 14): both compute it from the leading
master's state, so a named VIP's address in `l4lb.thisdcos.directory` is always the one
Minuteman programs, on every node, without either asking the other.

- `vips`: a task's VIP declarations (DiscoveryInfo port labels `VIP_*`, legacy `VIP_PORT<n>`);
- `named_ips`: the address of each named VIP, a function of the set of names;
- `table`: the master's state -> every VIP with its address and weighted backends
  (`TableBuilder` keeps it between states).

All pure (standard library and `daemons.kit.dns.labels`): what a daemon's cores may import.
docs/vips.md says what they do and where they differ from dcos-net.
"""
