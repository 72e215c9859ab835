"""bench/serve_ref.py - the shape of the SageMaker XGBoost container: a Python
HTTP endpoint (http.server, one thread a connection) answering POST
/invocations with text/csv rows by XGBoost's inplace_predict, and GET /ping.

    serve_ref.py MODEL.json PORT
"""
import http.server
import sys

import numpy as np
import xgboost as xgb

booster = xgb.Booster()
booster.load_model(sys.argv[1])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(200 if self.path == "/ping" else 404, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        rows = np.loadtxt(body.decode().splitlines(), delimiter=",", ndmin=2)
        pred = booster.inplace_predict(rows)
        self.answer(200, "".join("%r\n" % float(p) for p in pred).encode())


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
