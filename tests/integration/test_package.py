#!/usr/bin/env python3
"""test_package: the Debian package CPack builds (`cpack -G DEB` in the
build directory), checked without touching the system:

- it holds the three programs, their three man pages, the systemd unit and
  the example config (a conffile under /etc/sift), and depends on the
  shared libraries the programs link;
- extracted with dpkg-deb, its sift-searchd starts from the packaged
  example config (pointed at a test index and free ports) and answers over
  the line protocol and HTTP; its sift-indexer built that index and its
  sift-query reads it;
- the unit passes `systemd-analyze verify` and the man pages render
  without warnings, when those tools are installed.

(Installing it for real, `dpkg -i`, and starting the daemon from /usr/bin
was done by hand on the project machine: see the HTTP notes in docs/.)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sift  # noqa: E402

BUILD = sift.BIN.parent


def main():
    res = sift.Results("test_package")
    tmp = sift.scratch("package")
    if not shutil.which("cpack") or not shutil.which("dpkg-deb"):
        res.fail("cpack and dpkg-deb are needed (cmake, dpkg)")
        res.finish()
    p = subprocess.run(["cpack", "-G", "DEB", "-B", str(tmp / "out")], cwd=BUILD,
                       capture_output=True, text=True, timeout=600)
    debs = list((tmp / "out").glob("sift_*.deb"))
    if not res.ok(p.returncode == 0 and len(debs) == 1, "cpack -G DEB builds one package",
                  (p.stdout + p.stderr)[-800:]):
        res.finish()
    deb = str(debs[0])
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
    files = {ln.split()[-1].lstrip(".") for ln in listing.splitlines()}
    for f in ["/usr/bin/sift-indexer", "/usr/bin/sift-searchd", "/usr/bin/sift-query",
              "/usr/share/man/man1/sift-indexer.1", "/usr/share/man/man1/sift-searchd.1",
              "/usr/share/man/man1/sift-query.1", "/usr/lib/systemd/system/sift-searchd.service",
              "/etc/sift/searchd.conf"]:
        res.ok(f in files, "the package holds %s" % f)
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True).stdout
    res.ok(all(x in depends for x in ("libh2o", "libxapian", "libuv1", "libzstd")),
           "Depends lists the shared libraries", depends)
    ctl = tmp / "control"
    subprocess.run(["dpkg-deb", "-e", deb, str(ctl)], check=True)
    res.ok((ctl / "conffiles").read_text().split() == ["/etc/sift/searchd.conf"],
           "/etc/sift/searchd.conf is a conffile")

    root = tmp / "root"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    bindir = root / "usr" / "bin"
    corpus = sift.py_generate(tmp / "c.jsonl", 300, 5)
    index = tmp / "index"
    r = subprocess.run([str(bindir / "sift-indexer"), "--quiet", "--index", str(index), str(corpus)],
                       capture_output=True, text=True, timeout=300)
    res.ok(r.returncode == 0, "the packaged sift-indexer builds an index", r.stderr[-300:])
    lport, hport = sift.free_port(), sift.free_port()
    conf = (root / "etc" / "sift" / "searchd.conf").read_text()
    conf = re.sub(r"(?m)^index = .*$", "index = %s" % index, conf)
    conf = re.sub(r"(?m)^listen = .*$", "listen = 127.0.0.1:%d" % lport, conf)
    conf = re.sub(r"(?m)^http = .*$", "http = 127.0.0.1:%d" % hport, conf)
    (tmp / "searchd.conf").write_text(conf)
    r = subprocess.run([str(bindir / "sift-searchd"), "--config", str(tmp / "searchd.conf"),
                        "--check-config"], capture_output=True, text=True, timeout=60)
    res.ok(r.returncode == 0, "the example config passes --check-config", r.stderr)
    log = open(tmp / "searchd.log", "wb")
    d = subprocess.Popen([str(bindir / "sift-searchd"), "--config", str(tmp / "searchd.conf")],
                         stdout=subprocess.DEVNULL, stderr=log)
    try:
        body = None
        for _ in range(100):
            try:
                body = urllib.request.urlopen("http://127.0.0.1:%d/count?q=" % hport, timeout=5).read()
                break
            except OSError:
                time.sleep(0.05)
        res.ok(body == b'{"ok":true,"count":300}\n', "the packaged daemon answers over HTTP", repr(body))
        q = subprocess.run([str(bindir / "sift-query"), "--port", str(lport), "--json"],
                           input="COUNT\n", capture_output=True, text=True, timeout=60)
        res.ok(q.stdout == '{"ok":true,"count":300}\n', "and the packaged sift-query over the "
               "line protocol", q.stdout + q.stderr)
    finally:
        d.terminate()
        res.ok(d.wait(timeout=30) == 0, "SIGTERM: exit 0")
        log.close()

    unit = root / "usr" / "lib" / "systemd" / "system" / "sift-searchd.service"
    text = unit.read_text()
    res.ok("ExecStart=/usr/bin/sift-searchd --config /etc/sift/searchd.conf" in text
           and "ProtectSystem=strict" in text and "NoNewPrivileges=yes" in text
           and "DynamicUser=yes" in text, "the unit starts the daemon hardened")
    if shutil.which("systemd-analyze"):
        # verify needs the ExecStart binary at its path: check a copy that
        # points into the extracted tree.
        copy = tmp / "sift-searchd.service"
        copy.write_text(text.replace("/usr/bin/sift-searchd", str(bindir / "sift-searchd")))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                           timeout=60)
        res.ok(r.returncode == 0 and "sift-searchd.service" not in r.stderr,
               "systemd-analyze verify accepts the unit", r.stderr[-500:])
    else:
        res.note("systemd-analyze not installed: the unit was not verified")
    if shutil.which("groff"):
        for m in ("sift-indexer.1", "sift-searchd.1", "sift-query.1"):
            page = root / "usr" / "share" / "man" / "man1" / m
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                               capture_output=True, text=True)
            res.ok(r.returncode == 0 and not r.stderr.strip(), "%s renders without warnings" % m,
                   r.stderr[-300:])
    else:
        res.note("groff not installed: the man pages were not rendered")
    res.finish()


if __name__ == "__main__":
    main()
