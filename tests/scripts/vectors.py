#!/usr/bin/env python3
"""Recomputes the test vectors of docs/protocol.md independently.

Reads every ```vector block (signature vectors) and ```event-id block (event
id examples) of the document, recomputes the expected values with Python's
hmac and hashlib only, and runs the document's Python snippet, checking that
it prints one of the vectors' headers. With --sdk-cli, every event-id block
is also derived by the SDK itself (`cashback report ... --dry-run`, which
prints the event the SDK would spool), so that the document and the SDK
cannot drift. Exits 1, naming the vector and both values, on any mismatch;
0 when everything agrees.

Usage: vectors.py [--sdk-cli path/to/cashback] [path/to/protocol.md]
"""
import hashlib
import hmac
import io
import os
import json
import re
import subprocess
import sys
from contextlib import redirect_stdout

MIN_VECTORS = 4
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def blocks(text, info):
    """Bodies of fenced blocks whose info string is exactly `info`."""
    pattern = re.compile(r"^```" + re.escape(info) + r"[ \t]*\n(.*?)^```[ \t]*$",
                         re.M | re.S)
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in pattern.finditer(text)]


def fields(body, where):
    """(name, value) pairs of `name: value` lines, in order."""
    out = []
    for line in body.split("\n"):
        if line == "":
            continue
        m = re.match(r"^([a-z_]+):(?: (.*))?$", line)
        if not m:
            raise ValueError("%s: not a 'name: value' line: %r" % (where, line))
        out.append((m.group(1), m.group(2) if m.group(2) is not None else ""))
    return out


def mac_hex(secret, t, body):
    return hmac.new(secret, b"v1:%d:" % t + body, hashlib.sha256).hexdigest()


def check_vector(line, body_text):
    where = "vector at line %d" % line
    f = fields(body_text, where)
    name = [v for k, v in f if k == "name"]
    if name:
        where = "vector '%s' (line %d)" % (name[0], line)
    keys, secrets, body, t, header = [], [], None, None, None
    for k, v in f:
        if k == "key_id":
            keys.append(v)
        elif k == "secret":
            secrets.append(v)
        elif k == "timestamp":
            if t is not None or not re.fullmatch(r"0|[1-9][0-9]{0,11}", v):
                raise ValueError("%s: bad or repeated timestamp %r" % (where, v))
            t = int(v)
        elif k == "body":
            if body is not None:
                raise ValueError("%s: body given twice" % where)
            body = v.encode("utf-8")
        elif k == "body_hex":
            if body is not None and not isinstance(body, bytearray):
                raise ValueError("%s: body and body_hex both given" % where)
            body = (body or bytearray()) + bytearray(bytes.fromhex(v))
        elif k == "header":
            header = v
        elif k != "name":
            raise ValueError("%s: unknown line %r" % (where, k))
    if not keys or len(keys) != len(secrets) or t is None or body is None \
            or header is None:
        raise ValueError("%s: needs key_id/secret pairs, timestamp, body or "
                         "body_hex, and header" % where)
    for kid, sec in zip(keys, secrets):
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", kid):
            fail("%s: key id %r is not valid" % (where, kid))
        if not re.fullmatch(r"[\x21-\x7e]{16,256}", sec) or ";" in sec \
                or "#" in sec:
            fail("%s: secret of %s is not a valid secret" % (where, kid))
    body = bytes(body)
    want = "t=%d" % t + "".join(
        ",v1=%s:%s" % (kid, mac_hex(sec.encode("ascii"), t, body))
        for kid, sec in zip(keys, secrets))
    if want != header:
        fail("%s:\n  document: %s\n  computed: %s" % (where, header, want))
    else:
        print("ok: %s (%d keys, %d-byte body)" % (where, len(keys), len(body)))
    return header


def sdk_event_id(cli, f):
    """The id the SDK derives for the event-id block `f`, by the CLI."""
    args = [cli, "report", f["type"], "--order", f["order_id"], "--dry-run"]
    if f["type"] == "sale":
        args += ["--voucher", "V1", "--amount", "1", "--currency", "EUR"]
    elif f["type"] == "refund":
        args += ["--amount", "1", "--currency", "EUR"]
        if "refund_id" in f:
            args += ["--refund-id", f["refund_id"]]
    env = dict(os.environ)
    env["CASHBACK_CONNECTION"] = (
        "cashback:merchant_id=%s;key_id=vectors;"
        "secret=vectors-secret-not-used-0001;"
        "endpoint=http://127.0.0.1:9/cashback/v1/events" % f["merchant_id"])
    out = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30)
    if out.returncode != 0:
        raise ValueError("%s exited %d: %s" % (" ".join(args), out.returncode,
                                               out.stderr.decode()[:300]))
    return json.loads(out.stdout.decode())["id"]


def check_event_id(line, body_text, cli=None):
    where = "event-id at line %d" % line
    f = dict(fields(body_text, where))
    for k in ("merchant_id", "type", "order_id", "id"):
        if k not in f:
            raise ValueError("%s: missing %s" % (where, k))
    parts = ["cashback-event-v1", f["merchant_id"], f["type"], f["order_id"]]
    if "refund_id" in f:
        if f["type"] != "refund":
            fail("%s: refund_id on a %s" % (where, f["type"]))
        parts.append(f["refund_id"])
    want = hashlib.sha256(
        b"\x00".join(p.encode("utf-8") for p in parts)).digest()[:16].hex()
    if want != f["id"]:
        fail("%s (%s %s):\n  document: %s\n  computed: %s"
             % (where, f["type"], f["order_id"], f["id"], want))
    else:
        print("ok: %s (%s %s %s)" % (where, f["merchant_id"], f["type"],
                                      f["order_id"]))
    if cli:
        got = sdk_event_id(cli, f)
        if got != f["id"]:
            fail("%s (%s %s):\n  document: %s\n  the SDK:  %s"
                 % (where, f["type"], f["order_id"], f["id"], got))
        else:
            print("ok: %s derived by the SDK too" % where)


def check_snippets(text, headers):
    snippets = [b for _, b in blocks(text, "python") if "hmac.new" in b]
    if not snippets:
        fail("no ```python snippet using hmac.new found")
    for code in snippets:
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                exec(compile(code, "protocol.md snippet", "exec"), {})
        except Exception as e:  # report, never hide
            fail("python snippet raised %r" % (e,))
            continue
        printed = out.getvalue().strip()
        if printed not in headers:
            fail("python snippet printed %r, which is no vector's header"
                 % printed)
        else:
            print("ok: python snippet reproduces %s" % printed[:40])


def main():
    argv, cli = sys.argv[1:], None
    if argv[:1] == ["--sdk-cli"] and len(argv) >= 2:
        cli, argv = argv[1], argv[2:]
    path = argv[0] if argv else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
        "protocol.md")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    headers = []
    try:
        vectors = blocks(text, "vector")
        if len(vectors) < MIN_VECTORS:
            fail("%s: %d vector blocks, expected at least %d"
                 % (path, len(vectors), MIN_VECTORS))
        for line, body in vectors:
            headers.append(check_vector(line, body))
        ids = blocks(text, "event-id")
        if not ids:
            fail("%s: no event-id block" % path)
        for line, body in ids:
            check_event_id(line, body, cli)
    except ValueError as e:
        fail(str(e))
    check_snippets(text, headers)
    if failures:
        print("vectors: %d FAILURE(S) in %s" % (len(failures), path),
              file=sys.stderr)
        return 1
    print("vectors: all values in %s agree" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
