"""The DNS serving kit Mesos-DNS and the DNS proxy share.

- `wire`: parsing a query's header and question, composing replies (pure, standard library);
- `zone`: plain A/AAAA/SRV records (and the apex's SOA and NS) precomputed into answers (pure);
- `labels`: DNS labels from Mesos names and the per-task hash (pure);
- `upstream`: `Upstream` and `Forward`, the values a `resolve` names upstreams with (pure);
- `server`: `DnsServer`, UDP and TCP listeners driven by the daemon's `resolve(query)`, which
  answers bytes or says `Forward(upstreams)`; `forward`: the dual-dispatch `Forwarder`.

Like the rest of the kit it imports no daemon; its pure modules (`wire`, `zone`, `labels`,
`upstream`) are what a daemon's pure cores may import of it. dnslib is for tests (parsing
replies back); the hot path never builds a message object (docs/performance.md: dnslib's
server does ~2.9k qps).
"""
