"""Developer and test tooling: running ZooKeeper and the daemons as processes, the local cluster.

Not part of the installed distribution; imports nothing from `daemons`.
"""
