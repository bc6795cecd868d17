"""Minuteman (`dcos-minuteman`, every node): layer-4 virtual IPs, dcos-net's l4lb half, on an
nftables data plane. A Marathon port labelled `VIP_0: "/web:80"` is reachable at
`web.marathon.l4lb.thisdcos.directory:80` from every node, each connection DNATed to one
healthy backend by the kernel. docs/vips.md says how it is built and where it differs from
dcos-net's IPVS.

Pure cores: `vips` (a task's VIP declarations), `named_ips` (named VIPs' addresses), `table`
(the master's state -> the VIP table), `ruleset` (a VIP table -> nftables transactions).
"""
