#!/usr/bin/env python3
"""AUTH: with --auth-file, sift-searchd answers nothing but AUTH until the
right secret is sent; sift-query --auth-file authenticates; a non-loopback
address is refused without a secret or --insecure-bind."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sift  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def ask(port, lines):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall("".join(l + "\n" for l in lines).encode())
    data = b""
    while data.count(b"\n") < len(lines):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode().splitlines()


def main():
    tmp = str(sift.scratch("auth"))
    corpus = os.path.join(tmp, "c.jsonl")
    with open(corpus, "w") as f:
        f.write('{"id":"a1","title":"Harbor lights","body":"The harbor lights went out.","outlet":"Test Wire"}\n')
    index = os.path.join(tmp, "idx")
    subprocess.run([sift.exe("sift-indexer"), "--quiet", "--index", index, corpus], check=True)
    secret = os.path.join(tmp, "secret")
    with open(secret, "w") as f:
        f.write("correct horse battery\n")
    proc = subprocess.Popen([sift.exe("sift-searchd"), "--index", index, "--listen", "127.0.0.1:0",
                             "--auth-file", secret], stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 20
        while port is None and time.time() < deadline:
            line = proc.stderr.readline()
            if "listening on 127.0.0.1:" in line:
                port = int(line.rsplit(":", 1)[1])
        check(port is not None, "daemon announced its port")
        r = ask(port, ["COUNT harbor", "AUTH wrong-secret", "GET a1", "AUTH correct horse battery", "COUNT harbor"])
        check('"code":"unauthorized"' in r[0], "request before AUTH is unauthorized: %r" % r[0])
        check('"code":"unauthorized"' in r[1], "wrong secret is unauthorized: %r" % r[1])
        check('"code":"unauthorized"' in r[2], "still unauthorized after a wrong secret: %r" % r[2])
        check(r[3] == '{"ok":true}', "right secret accepted: %r" % r[3])
        check(r[4] == '{"ok":true,"count":1}', "queries answered after AUTH: %r" % r[4])
        q = subprocess.run([sift.exe("sift-query"), "--port", str(port), "--auth-file", secret, "--json",
                            "harbor"], capture_output=True, text=True)
        check(q.returncode == 0 and '"total":1' in q.stdout, "sift-query --auth-file: %r %r" % (q.stdout, q.stderr))
        q = subprocess.run([sift.exe("sift-query"), "--port", str(port), "--json", "harbor"],
                           capture_output=True, text=True)
        check(q.returncode != 0 and "unauthorized" in q.stdout, "sift-query without the secret is refused")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = subprocess.run([sift.exe("sift-searchd"), "--index", index, "--listen", "0.0.0.0:0"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "loopback" in r.stderr and r.stderr.count("\n") == 1,
          "non-loopback bind refused with one line: %r" % r.stderr)
    print("test_auth: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    sift.cleanup(keep=bool(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
