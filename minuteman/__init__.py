"""Minuteman (`dcos-minuteman`, every node): layer-4 virtual IPs, dcos-net's l4lb half, on an
nftables data plane. A Marathon port labelled `VIP_0: "/web:80"` is reachable at
`web.marathon.l4lb.thisdcos.directory:80` from every node, each connection DNATed to one
healthy backend by the kernel. docs/vips.md says how it is built and where it differs from
dcos-net's IPVS.

The VIP table (a task's VIP declarations, named VIPs' addresses, the master's state -> every
VIP and its weighted backends) is `daemons.kit.l4lb`, shared with the DNS proxy. Here: the pure
core `ruleset` (a VIP table -> nftables transactions, and the check of the kernel's listing)
and the adapter `nft` (libnftables in process).
"""
