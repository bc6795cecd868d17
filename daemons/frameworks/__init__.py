"""The leader-elected framework host that Marathon and Metronome run on.

`daemon.FrameworkDaemon` contends for leadership in ZooKeeper, keeps the FrameworkID there and
drives the scheduler client (`daemons.mesos_client`); `leader_proxy` makes standbys forward
every request to the leader. It imports the kit, the protocols and the scheduler client, never
a framework's own code.
"""
