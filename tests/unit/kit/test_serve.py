"""The kit's gunicorn worker: its request pool runs daemon threads, and still serves."""

from __future__ import annotations

import threading

from daemons.kit.serve import DaemonThreadPool, Worker


def test_the_request_pool_grows_with_daemon_threads_up_to_its_size() -> None:
    pool = DaemonThreadPool(max_workers=3)
    release = threading.Event()
    try:
        held = [pool.submit(release.wait, 5) for _ in range(3)]  # three streams, each a thread
        queued = pool.submit(lambda: threading.current_thread())
        assert len(pool._threads) == 3
        assert all(t.daemon for t in pool._threads)
        assert not queued.done()  # a fourth waits for a thread, as in gthread
        release.set()
        assert all(f.result(timeout=5) for f in held)
        assert queued.result(timeout=5).daemon
    finally:
        release.set()
        pool.shutdown(wait=True)


def test_the_worker_uses_it() -> None:
    worker = Worker.__new__(Worker)
    worker.cfg = type("Cfg", (), {"threads": 2})()
    pool = worker.get_thread_pool()
    assert isinstance(pool, DaemonThreadPool)
    pool.shutdown(wait=False)
