#!/usr/bin/env python3
"""test_config: sift-searchd's settings table and its query log.

- --config FILE sets every kind of setting (number, size, octal, flag,
  level, path, repeated address); the command line wins over the file;
  --check-config prints the effective settings, which read back as the
  same settings when given as a config file;
- errors name the file and line (unknown name, bad value, out of range,
  missing '='), or the flag; exit status 2 with one line;
- --help and --man list every setting --check-config knows, with the
  same defaults;
- --query-log: one JSON line per request from both protocols with time,
  command, query, total, took_us (totals checked against the answers
  themselves); --slow-ms keeps only the slow ones; after the file is
  renamed and SIGHUP sent, new lines go to a new file at the old name; the
  secret of AUTH never reaches it.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sift  # noqa: E402
import test_http  # noqa: E402

SEARCHD = sift.exe("sift-searchd")


def searchd(*args, timeout=60):
    return subprocess.run([SEARCHD] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout)


def settings(text):
    """{name: [values]} of a config text."""
    out = {}
    for ln in text.splitlines():
        ln = ln.strip()
        if not ln or ln.startswith("#"):
            continue
        k, v = [x.strip() for x in ln.split("=", 1)]
        out.setdefault(k, []).append(v)
    return out


def main():
    res = sift.Results("test_config")
    sift.require_binaries(res, ("sift-indexer", "sift-searchd"))
    tmp = sift.scratch("config")
    files, _ = test_http.write_corpus(tmp)
    index = tmp / "index"
    p = sift.run([sift.exe("sift-indexer"), "--quiet", "--index", index] + files)
    if not res.ok(p.returncode == 0, "index built", p.stderr[-300:]):
        res.finish()
    try:
        config_file(res, tmp, index)
        errors(res, tmp, index)
        help_and_man(res, index)
        query_log(res, tmp, index)
    except Exception:
        import traceback
        res.fail("unexpected exception", traceback.format_exc())
    res.finish()


def config_file(res, tmp, index):
    conf = tmp / "searchd.conf"
    conf.write_text(
        "# a comment\n"
        "index = %s\n"
        "  listen = 127.0.0.1:0  \n"
        "listen = [::1]:0\n"
        "max-line = 128K\n"
        "unix-mode = 0660\n"
        "insecure-bind = yes\n"
        "log-level = debug\n"
        "cache-mb = 7\n"
        "query-log = \"%s\"\n"
        "slow-ms = 3\n" % (index, tmp / "q.log"))
    r = searchd("--config", conf, "--check-config", "--cache-mb", "9")
    got = settings(r.stdout)
    res.ok(r.returncode == 0 and "configuration ok" in r.stderr, "--check-config accepts the file",
           r.stderr)
    want = {"index": [str(index)], "listen": ["127.0.0.1:0", "[::1]:0"],
            "max-line": [str(128 * 1024)], "unix-mode": ["0660"], "insecure-bind": ["yes"],
            "log-level": ["debug"], "cache-mb": ["9"], "query-log": [str(tmp / "q.log")],
            "slow-ms": ["3"], "max-pipeline": ["128"], "query-timeout": ["5000"]}
    for k, v in want.items():
        res.ok(got.get(k) == v, "effective %s = %s" % (k, v), "got %r" % got.get(k))
    # The command line's --listen replaces the file's list.
    r = searchd("--config", conf, "--check-config", "--listen", "127.0.0.1:5")
    res.ok(settings(r.stdout).get("listen") == ["127.0.0.1:5"], "--listen on the command line "
           "replaces the file's addresses")
    # What --check-config prints is itself a config giving the same settings.
    again = tmp / "again.conf"
    again.write_text(r.stdout)
    r2 = searchd("--config", again, "--check-config")
    res.ok(r2.returncode == 0 and r2.stdout == r.stdout, "--check-config's output reads back the same",
           r2.stderr)
    # --name=value form.
    r = searchd("--index=%s" % index, "--check-config", "--threads=3")
    res.ok(settings(r.stdout).get("threads") == ["3"], "--name=value works")


def errors(res, tmp, index):
    cases = [
        ("frobnicate = 1\n", r"bad\.conf:2: unknown setting 'frobnicate'"),
        ("max-line = 12Q\n", r"bad\.conf:2: bad size '12Q'"),
        ("max-pipeline = 0\n", r"bad\.conf:2: 0 is out of range \(1\.\.1000000\)"),
        ("listen\n", r"bad\.conf:2: expected \"name = value\""),
        ("insecure-bind = maybe\n", r"bad\.conf:2: expected yes or no"),
        ("config = other.conf\n", r"bad\.conf:2: 'config' is not a setting a file can hold"),
        ("log-level = loud\n", r"bad\.conf:2: expected error, warn, info or debug"),
    ]
    bad = tmp / "bad.conf"
    for body, pattern in cases:
        bad.write_text("index = %s\n%s" % (index, body))
        r = searchd("--config", bad, "--check-config")
        res.ok(r.returncode == 2 and re.search(pattern, r.stderr) and r.stderr.count("\n") == 1,
               "config error names file:line: %s" % body.strip(), r.stderr)
    for args, pattern in [(["--max-output", "12"], r"--max-output: 12 is out of range"),
                          (["--bogus"], r"unknown option '--bogus'"),
                          (["--threads"], r"--threads needs a value"),
                          (["--insecure-bind=yes"], r"--insecure-bind takes no value"),
                          (["stray"], r"unexpected argument 'stray'"),
                          (["--config", tmp / "missing.conf"], r"missing\.conf: No such file")]:
        r = searchd("--index", index, "--check-config", *args)
        res.ok(r.returncode == 2 and re.search(pattern, r.stderr), "flag error: %s" % args, r.stderr)
    r = searchd("--index", tmp / "no-index", "--check-config")
    res.ok(r.returncode == 1 and "cannot open the index" in r.stderr,
           "--check-config opens the index", r.stderr)


def help_and_man(res, index):
    r = searchd("--index", index, "--check-config")
    names = set(settings(r.stdout)) | {ln[2:].split(" =")[0] for ln in r.stdout.splitlines()
                                       if ln.startswith("# ")}
    h = searchd("--help").stdout
    m = searchd("--man").stdout
    res.ok(len(names) >= 24, "--check-config lists every setting (%d)" % len(names))
    missing_help = [n for n in names if "--" + n not in h]
    missing_man = [n for n in names if "\\-\\-" + n.replace("-", "\\-") not in m]
    res.ok(not missing_help, "--help lists every setting", str(missing_help))
    res.ok(not missing_man, "--man lists every setting", str(missing_man))
    res.ok(m.startswith(".TH SIFT\\-SEARCHD 1") and ".SH OPTIONS" in m, "--man is a man page")
    res.ok("(default 128)" in h and "(default 64K)" in h and "(default 5000)" in h,
           "--help shows the table's defaults")
    if os.path.exists("/usr/bin/man") or os.path.exists("/usr/bin/groff"):
        pass  # rendering is checked by the package test


def query_log(res, tmp, index):
    qlog = tmp / "queries.jsonl"
    secret = tmp / "secret"
    secret.write_text(test_http.SECRET + "\n")
    d = test_http.Daemon(index, tmp, "qlog", "--query-log", qlog, "--auth-file", secret)
    try:
        hdr = {"Authorization": "Bearer " + test_http.SECRET}
        c = sift.Conn(d.port)
        c.request("AUTH " + test_http.SECRET)
        a1 = json.loads(c.request("SEARCH lighthouse limit:2"))
        a2 = json.loads(c.request("COUNT keeper"))
        c.request("SEARCH (")
        c.request(json.dumps({"op": "search", "q": "storm", "outlet": test_http.OUTLET}))
        c.request("GET http-3")
        c.request("PING")
        st, _, b = d.get("/count?q=harbour", headers=hdr)
        a3 = json.loads(b)
        lines = wait_lines(qlog, 7)
        want = [("search", "lighthouse limit:2", a1["total"], None, "line"),
                ("count", "keeper", a2["count"], None, "line"),
                ("search", "(", None, "bad_query", "line"),
                ("search", "storm", None, None, "line"),
                ("get", "http-3", None, None, "line"),
                ("ping", None, None, None, "line"),
                ("count", "harbour", a3["count"], None, "http")]
        res.ok(len(lines) == 7, "one log line per request (AUTH not logged)", "%d lines" % len(lines))
        for got, (cmd, q, total, code, proto) in zip(lines, want):
            ok = (got.get("command") == cmd and got.get("query") == q and got.get("code") == code
                  and got.get("proto") == proto and isinstance(got.get("took_us"), int)
                  and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", got.get("time", "")))
            if total is not None:
                ok = ok and got.get("total") == total
            res.ok(ok, "log line for %s %s" % (cmd, q), json.dumps(got))
        res.ok(test_http.SECRET not in qlog.read_text(), "the secret never reaches the log")
        # Rotation: rename, SIGHUP, new lines in a new file.
        os.rename(qlog, tmp / "queries.jsonl.1")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        c.request("COUNT storm")
        lines2 = wait_lines(qlog, 1)
        res.ok(len(lines2) == 1 and lines2[0]["query"] == "storm",
               "after SIGHUP the log is reopened at its name")
        res.ok(len(read_lines(tmp / "queries.jsonl.1")) == 7, "the rotated file keeps its lines")
        c.close()
    finally:
        d.stop()
    # --slow-ms: a threshold no request reaches logs nothing; 0 logs all.
    slow = tmp / "slow-queries.jsonl"
    d = test_http.Daemon(index, tmp, "slow", "--query-log", slow, "--slow-ms", "60000")
    try:
        for _ in range(5):
            d.line("SEARCH lighthouse")
        time.sleep(0.3)
        res.ok(slow.exists() and slow.read_text() == "", "--slow-ms 60000 logs no fast request")
    finally:
        d.stop()


def read_lines(path):
    try:
        return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    except FileNotFoundError:
        return []


def wait_lines(path, n, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        lines = read_lines(path)
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    return read_lines(path)


if __name__ == "__main__":
    main()
