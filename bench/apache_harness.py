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
