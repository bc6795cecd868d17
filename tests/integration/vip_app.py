"""The web app the VIP tests put behind a label (tests/integration/minuteman on loopback,
tests/integration/faults/test_faults_3_vips.py on test hosts): its server and its Mesos check."""

from __future__ import annotations

from typing import Any

# Answers its task's id (the sandbox is not the test's to write in), keeping connections alive
# (HTTP/1.1) unless asked to close. GET /sick makes GET /health answer 503 from then on: a
# Mesos HTTP check on /health then reports the task unhealthy.
SERVER = """import http.server as s, os
sick = []
class H(s.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        if self.path == '/sick':
            sick.append(1)
        b = os.environ['MESOS_TASK_ID'].encode()
        self.send_response(503 if self.path == '/health' and sick else 200)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s.ThreadingHTTPServer(('0.0.0.0', int(os.environ['PORT0'])), H).serve_forever()"""

# Mesos' own HTTP check (so that `healthy` is in the statuses), probing every second from the
# start; it never kills (1,000 failures in a row would take 1,000 s).
MESOS_CHECK: dict[str, Any] = {
    "protocol": "MESOS_HTTP",
    "path": "/health",
    "portIndex": 0,
    "delaySeconds": 0,
    "intervalSeconds": 1,
    "timeoutSeconds": 1,
    "gracePeriodSeconds": 30,
    "maxConsecutiveFailures": 1000,
}
