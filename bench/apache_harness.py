"""Processes and ports for the runs of a real Apache httpd on 127.0.0.1:
the helpers tests/scripts/apache_e2e.py and bench/apache_bench.py share.

Every process is started in its own session (so that stopping it stops
its children: Apache's, php-fpm's) and kept in `procs` until stopped; all
are stopped when the script ends, also by an exception or SIGTERM.
"""
import atexit
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

procs = []


def start(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    procs.append(p)
    return p


def stop(p, grace=10):
    """SIGTERM to its session, SIGKILL after `grace` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
    if p in procs:
        procs.remove(p)


def stop_all():
    for p in list(procs):
        stop(p, 5)


# Whatever ends the script (an exception, `timeout`'s SIGTERM), what it
# started in their own sessions is stopped too.
atexit.register(stop_all)
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def wait_until(cond, seconds):
    """cond()'s first true value within `seconds`, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return None


def children_user():
    """The user Apache's children run as when we are root (User), else
    None: nobody, or daemon."""
    if os.geteuid() != 0:
        return None
    for name in ("nobody", "daemon"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    return None


def port_from_file(portfile, seconds=10):
    """The port a server wrote to `portfile` (cashback-sandbox,
    fast_receiver: --port-file), waiting for it; None if it never came."""
    def read():
        try:
            with open(portfile) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
    return wait_until(read, seconds)


def write_private(path, text):
    """A new file only its owner reads (0600): a merchant configuration."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
              "w") as f:
        f.write(text)


class Checks:
    """The "ok N - what" lines of an end-to-end test (apache_e2e.py,
    nginx_e2e.py): fail() prints the last lines of the logs in `work` that
    exist, stops every process started and exits 1."""

    def __init__(self, name, work, logs=("error.log", "sandbox.log")):
        self.name, self.work, self.logs, self.passed = name, work, logs, 0

    def fail(self, what, detail=""):
        print("%s: FAIL: %s %s" % (self.name, what, detail))
        for log in self.logs:
            path = os.path.join(self.work, log)
            if os.path.exists(path):
                print("--- %s (last 30 lines)" % log)
                with open(path, errors="replace") as f:
                    print("".join(f.readlines()[-30:]), end="")
        stop_all()
        sys.exit(1)

    def check(self, cond, what, detail=""):
        if not cond:
            self.fail(what, detail)
        self.passed += 1
        print("ok %d - %s" % (self.passed, what))

    def wait_for(self, cond, what, seconds=20):
        v = wait_until(cond, seconds)
        if not v:
            self.fail("timed out waiting for " + what)
        return v


def request(port, path, headers=None):
    """GET `path` from 127.0.0.1:`port`: status, headers, body (text)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read().decode("utf-8", "replace")
    conn.close()
    return r.status, r.getheaders(), body


def header_values(headers, name):
    """Every value of header `name` (any case) in a getheaders() list."""
    return [v for k, v in headers if k.lower() == name.lower()]


class SandboxDb:
    """What cashback-sandbox stored, read from its SQLite file (read-only):
    the end-to-end tests' view of the network."""

    def __init__(self, path):
        self.path = path

    def events_of(self, order):
        """The sandbox's accepted events of an order, as (id, JSON)."""
        import json
        import sqlite3
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                                timeout=5)
            try:
                rows = c.execute("SELECT id, raw FROM events WHERE "
                                 "order_id = ?", (order,)).fetchall()
            finally:
                c.close()
        except sqlite3.Error:
            return []
        return [(i, json.loads(raw)) for i, raw in rows]

    def sales(self, order):
        return [(i, e) for i, e in self.events_of(order) if e["type"] == "sale"]

    def duplicates(self):
        """The duplicates the sandbox counted, over every batch."""
        import sqlite3
        c = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        try:
            return c.execute("SELECT COALESCE(SUM(duplicates), 0) FROM "
                             "batches").fetchone()[0]
        finally:
            c.close()


def iso(t):
    """Unix seconds as the RFC 3339 UTC time the protocol uses."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def handle_time(h):
    """The capture time (Unix seconds) in a click handle."""
    return int(h.split(".")[1])
