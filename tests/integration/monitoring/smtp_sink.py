#!/usr/bin/python3
"""A loopback SMTP sink for the alarm tests (Debian python3-aiosmtpd).

Every accepted message is written to DIR/NNNN.eml (atomically: a temporary name, then a
rename), with the envelope in X-Envelope-From / X-Envelope-To lines first.

  smtp_sink.py PORT DIR [--auth USER:PASS] [--tls CERT KEY]

--auth requires AUTH (LOGIN or PLAIN) with these credentials; --tls offers STARTTLS and, with
--auth, requires it before AUTH. Prints "ready" on stdout once it listens.
"""
import itertools
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Save:
    def __init__(self, folder):
        self.folder = folder
        self.count = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.count)
        tmp = os.path.join(self.folder, ".%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\nX-Sink-TLS: %s\r\n"
                     % (envelope.mail_from, ",".join(envelope.rcpt_tos),
                        "yes" if session.ssl else "no")).encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.folder, "%04d.eml" % n))
        return "250 OK"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    auth = None
    tls = None
    while args:
        if args[0] == "--auth":
            auth = args[1].split(":", 1)
            args = args[2:]
        elif args[0] == "--tls":
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(args[1], args[2])
            args = args[3:]
        else:
            sys.exit("unknown argument " + args[0])
    os.makedirs(folder, exist_ok=True)
    kwargs = {}
    if auth:
        def check(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and \
                data.login.decode() == auth[0] and data.password.decode() == auth[1]
            # handled=False: aiosmtpd answers 535 itself (with the default True it says nothing)
            return AuthResult(success=ok, handled=False)
        kwargs.update(authenticator=check, auth_required=True, auth_require_tls=tls is not None)
    if tls:
        kwargs.update(tls_context=tls, require_starttls=True)
    controller = Controller(Save(folder), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
