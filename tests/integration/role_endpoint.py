"""The two places a role's credentials come from, on 127.0.0.1, for the tests.

usage: role_endpoint.py PORTFILE LOGFILE KEY SECRET

  EC2 instance metadata, IMDSv2 as AWS documents it: PUT /latest/api/token
  (with X-aws-ec2-metadata-token-ttl-seconds) gives a session token; with it
  in X-aws-ec2-metadata-token, GET /latest/meta-data/iam/security-credentials/
  names the role and GET .../ROLE gives its keys.  Without the token: 401.
  A container endpoint: GET /ecs/creds with "Authorization: auth-token" gives
  the same keys; another Authorization: 403.

Writes the port to PORTFILE; each request is a line "METHOD PATH" in LOGFILE.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

portfile, logfile, key, secret = sys.argv[1:5]
TOKEN = "imds-session-token-0123"
ROLE = "mlpipe-ci-role"
KEYS = json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key, "SecretAccessKey": secret,
                   "Token": "role-session-token", "Expiration": "2099-01-01T00:00:00Z"})


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body=""):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request_line(self):
        with open(logfile, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def do_PUT(self):
        self.log_request_line()
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.answer(200, TOKEN)
        else:
            self.answer(400, "missing TTL")

    def do_GET(self):
        self.log_request_line()
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(base):
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                self.answer(401)
            elif self.path == base:
                self.answer(200, ROLE + "\n")
            elif self.path == base + ROLE:
                self.answer(200, KEYS)
            else:
                self.answer(404)
        elif self.path == "/ecs/creds":
            if self.headers.get("Authorization") == "auth-token":
                self.answer(200, KEYS)
            else:
                self.answer(403, "bad token")
        else:
            self.answer(404)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
