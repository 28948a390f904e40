"""The asset server: a tiny HTTPS server inside the browser's sandbox that answers every page request.

Chromium is started with host-resolver rules (``host_rules``) that send the job documents' hosts
(``j<N>-<token>.vpb.invalid``) and the CDN hosts that ``_cdn`` knows to this server, and every other
host nowhere (name not resolved), so no request needs interception. Intercepting requests turns
Chromium's HTTP cache off; this way the chart libraries stay in the cache between jobs (served files
carry long-lived cache headers, the documents ``no-store``). Measured on the task set, CPU per HTML
job was about the same either way; what it saves is a round trip through our Python for every
request.

What it serves:
  * ``https://j<N>-<token>.vpb.invalid/index.html``: the job's document, the file
    ``<docs>/j<N>-<token>.html`` that the host wrote (the random token keeps one job from naming
    another's document); any other path on a document host is 404 (a relative URL: no files).
  * a CDN URL: the pinned local file that ``_cdn.resolve`` maps it to, or 404. The server runs a
    copy of ``_cdn.py`` (standard library only) with the package table from ``assets.package_table``.

The server runs in the browser's network namespace (only loopback, nothing else), reads the assets
and documents through read-only binds and is started by the sandbox wrapper before Chromium. Its
certificate is made per launch and pinned in Chromium by its key's hash
(``--ignore-certificate-errors-spki-list``), which also covers the host names it answers for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from visplotbench.engine import _cdn

PORT = 8443  # inside the browser's own network namespace
DOC_DOMAIN = "vpb.invalid"
# A job document's URL; its host label is also the document's file name in the docs folder.
DOC_HOST = re.compile(r"https://(j[0-9]+-[0-9a-f]+)\.vpb\.invalid/")
# Where the server finds its files inside the sandbox (the wrapper binds them there).
SRV, DOCS, ASSETS = "/vpb/srv", "/vpb/docs", "/vpb/assets"

_SERVER = """import http.server, json, os, re, ssl, sys
from pathlib import Path
sys.path.insert(0, SRV)
import cdn

port, ready = int(sys.argv[1]), sys.argv[2]
with open(os.path.join(SRV, "packages.json"), encoding="utf-8") as f:
    cdn.use_table(json.load(f))
DOC = re.compile(r"^(j[0-9]+-[0-9a-f]+)\\.vpb\\.invalid$")
IMMUTABLE = "public, max-age=31536000, immutable"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        doc = DOC.match(host)
        if doc:
            path = self.path.split("?", 1)[0]
            full = os.path.join(DOCS, doc.group(1) + ".html") if path == "/index.html" else None
            headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        else:
            found = cdn.resolve("https://" + host + self.path, Path(ASSETS))
            full = str(found) if found is not None else None
            headers = {"Content-Type": cdn.content_type(found) if found is not None else "",
                       "Cache-Control": IMMUTABLE, "Access-Control-Allow-Origin": "*",
                       "Timing-Allow-Origin": "*"}
        try:
            with open(full, "rb") as f:
                data = f.read()
        except (OSError, TypeError):
            self.send_error(404)
            return
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(SRV, "cert.pem"), os.path.join(SRV, "key.pem"))
server.socket = context.wrap_socket(server.socket, server_side=True)
open(ready, "w").close()
server.serve_forever()
"""


@dataclass
class AssetServer:
    """A prepared server folder: how to start the server and how Chromium must trust it."""

    python: str  # the interpreter that runs it inside the sandbox
    spki: str  # base64 SHA-256 of the certificate's public key, for Chromium's pin list
    read_only: list[str]  # extra host paths the interpreter needs inside the sandbox

    def command(self, ready: str) -> str:
        """The shell line that starts the server in the background (``ready`` appears once it listens)."""
        return f"{self.python} -I -S {SRV}/server.py {PORT} {ready} &"


def host_rules() -> str:
    """Chromium's ``--host-resolver-rules``: documents and CDN hosts to the server, all else nowhere."""
    rules = [f"MAP *.{DOC_DOMAIN} 127.0.0.1:{PORT}"]
    rules += [f"MAP {host} 127.0.0.1:{PORT}" for host in _cdn.HOSTS]
    return ",".join([*rules, "MAP * ~NOTFOUND"])


def served_by_server(url: str) -> bool:
    """True for URLs that the browser sends to the asset server (a job document or a CDN host)."""
    return bool(DOC_HOST.match(url)) or _cdn.is_cdn_url(url)


def prepare(srv: Path) -> AssetServer | None:
    """Write the server, its copy of ``_cdn``, the package table and a new certificate into ``srv``.

    None when it cannot run here (no openssl): pages then get their files through request
    interception (slower).
    """
    from visplotbench.engine.assets import package_table

    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = srv / "cert.pem", srv / "key.pem"
    try:
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "3650", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        pem = subprocess.run(
            [openssl, "x509", "-in", str(cert), "-pubkey", "-noout"],
            check=True, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    # A PEM public key is the base64 of the SubjectPublicKeyInfo whose SHA-256 Chromium pins.
    der = base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))
    spki = base64.b64encode(hashlib.sha256(der).digest()).decode()
    constants = f"SRV, DOCS, ASSETS = {SRV!r}, {DOCS!r}, {ASSETS!r}\n"
    (srv / "server.py").write_text(constants + _SERVER, encoding="utf-8")
    shutil.copyfile(_cdn.__file__, srv / "cdn.py")
    (srv / "packages.json").write_text(json.dumps(package_table()), encoding="utf-8")
    if os.access("/usr/bin/python3", os.X_OK):
        return AssetServer("/usr/bin/python3", spki, [])
    python = os.path.realpath(sys.executable)
    return AssetServer(python, spki, [sys.base_prefix, os.path.dirname(python)])
