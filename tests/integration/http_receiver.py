"""A real HTTP receiver for the notifier tests, on 127.0.0.1.

usage: http_receiver.py PORTFILE LOGFILE [FAILURES [STATUS]]
Writes the port it listens on to PORTFILE, then answers every POST: the
first FAILURES requests with STATUS (default 503), later ones with 200.
Each request is appended to LOGFILE as one JSON line: path, headers, body.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

portfile, logfile = sys.argv[1], sys.argv[2]
failures = int(sys.argv[3]) if len(sys.argv) > 3 else 0
status = int(sys.argv[4]) if len(sys.argv) > 4 else 503
seen = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(logfile, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        seen += 1
        code = status if seen <= failures else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
