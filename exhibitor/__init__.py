"""dcos-exhibitor: the ZooKeeper supervisor on every master, with Exhibitor's REST API."""
