"""A real SNS Query API endpoint for the notifier tests, on 127.0.0.1.

usage: sns_receiver.py PORTFILE LOGFILE ACCESS_KEY SECRET TOPIC_ARN [FAILURES]

Writes its port to PORTFILE.  Each POST is checked as SNS would: the
Authorization header's SigV4 signature is recomputed with botocore's signer
(SigV4Auth, service "sns") over the signed headers and the body, with the
secret it was given; the access key, the credential scope (date, region of
the topic, "sns") and Action=Publish with a known TopicArn are checked.  A
good request gets SNS's PublishResponse with a MessageId; a bad one the
ErrorResponse SNS sends (SignatureDoesNotMatch, InvalidClientTokenId,
NotFound).  The first FAILURES requests get 503 Throttling instead.  Each
request is appended to LOGFILE as one JSON line: headers, form fields,
whether the signature matched.
"""
import json
import os
import sys
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

portfile, logfile, access_key, secret, topic_arn = sys.argv[1:6]
failures = int(sys.argv[6]) if len(sys.argv) > 6 else 0
seen = 0


def error(code, message, kind="Sender"):
    return ("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>%s</Type>"
            "<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
            % (kind, code, message, uuid.uuid4()))


def verify(method, path, headers, body):
    """(ok, code, message) for a request, checking its SigV4 signature with botocore."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "MissingAuthenticationToken", "Request is missing Authentication Token"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key, date, region, service, term = fields["Credential"].split("/")
    if key != access_key:
        return False, "InvalidClientTokenId", "The security token included in the request is invalid."
    if service != "sns" or term != "aws4_request" or region != topic_arn.split(":")[3]:
        return False, "SignatureDoesNotMatch", "Credential should be scoped to a valid region and service sns."
    amz_date = headers.get("X-Amz-Date", "")
    if amz_date[:8] != date:
        return False, "SignatureDoesNotMatch", "Date in Credential scope does not match the X-Amz-Date header."
    signed = fields["SignedHeaders"].split(";")
    lower = {k.lower(): v for k, v in headers.items()}
    request = AWSRequest(method=method, url="http://%s%s" % (lower["host"], path),
                         headers={name: lower[name] for name in signed if name in lower}, data=body)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret), "sns", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != fields["Signature"] or "host" not in signed or "x-amz-date" not in signed:
        return False, "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                                "signature you provided.")
    return True, None, None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        ok, code, message = verify("POST", self.path, dict(self.headers), body)
        seen += 1
        with open(logfile, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "form": form,
                                "signature_ok": ok, "code": code}) + "\n")
        if seen <= failures:
            status, answer = 503, error("Throttling", "Rate exceeded", "Receiver")
        elif not ok:
            status, answer = 403, error(code, message)
        elif form.get("Action") != "Publish" or form.get("Version") != "2010-03-31":
            status, answer = 400, error("InvalidAction", "The action or operation requested is invalid.")
        elif form.get("TopicArn") != topic_arn:
            status, answer = 404, error("NotFound", "Topic does not exist")
        elif not form.get("Message"):
            status, answer = 400, error("InvalidParameter", "Invalid parameter: Empty message")
        else:
            status = 200
            answer = ("<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>"
                      "<MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId>"
                      "</ResponseMetadata></PublishResponse>" % (uuid.uuid4(), uuid.uuid4()))
        data = answer.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
