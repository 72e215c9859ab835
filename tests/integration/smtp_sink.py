"""A real SMTP server for the notifier tests (Debian's python3-aiosmtpd) on 127.0.0.1.

usage: smtp_sink.py PORTFILE MAILFILE [REFUSE_RCPT]
Writes its port to PORTFILE and appends every message it accepts to
MAILFILE as JSON lines {mail_from, rcpt_tos, data}; REFUSE_RCPT, when
given, is a recipient refused with 550.
"""
import json
import socket
import sys
import time

from aiosmtpd.controller import Controller

portfile, mailfile = sys.argv[1], sys.argv[2]
refuse = sys.argv[3] if len(sys.argv) > 3 else None


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(mailfile, "a") as f:
            f.write(json.dumps({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8", "replace")}) + "\n")
        return "250 Message accepted"


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
with open(portfile, "w") as f:
    f.write(str(port))
while True:
    time.sleep(3600)
