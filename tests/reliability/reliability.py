#!/usr/bin/env python3
"""Reliability tests of the libcashback spool and sender (docs/reliability.md).

Each scenario runs shop processes (tests/reliability/reporter, the public API
only) against the in-tree receiver (tests/receiver/receiver.py) on 127.0.0.1
and checks one promise:

  kill        kill -9 of reporting processes at random points; a sender
              restarted afterwards delivers every acknowledged event
  ack         kill -9 of the sender after the receiver recorded a batch and
              before the sender stored the acknowledgement: resent, deduped
  concurrent  8 processes report into one spool at once, some killed, with a
              sender draining it at the same time: nothing lost, no torn record
  newsegment  a sender looking at new segments while writers create them
              (the shim delays their lock): none taken for finished
  faults      500, 503 and 429 with Retry-After (also 0 and a past date:
              bounded request counts), resets, a hang, slow answers,
              a 400 for a whole batch, an event rejected in a batch, 401
  damage      segments truncated, zero-filled, bit-flipped, garbage files
  spoolfull   the spool cap: CASHBACK_E_SPOOL_FULL exactly when not stored
  fsync       fdatasync failing (LD_PRELOAD shim): CASHBACK_E_IO exactly for
              the events whose fdatasync failed
  powercut    kill -9, then discard what was not fdatasync'd (shim): no
              acknowledged event lost in sync mode; process mode measured
  enospc      the spool on a 256 KiB tmpfs: CASHBACK_E_DISK_FULL exactly when
              not stored (needs root to mount; skipped otherwise)
  causal      8 processes, each order's sale and follow-ups reported by
              different ones, through an outage: the receiver sees every
              follow-up after its sale; every order's net amount is right
  readerror   a transient EIO from pread() on a closed segment (shim): the
              segment is kept and read again, nothing lost, counted
  fleet       two servers of one shop, one spool each, the follow-ups'
              server delivering first, against a receiver that holds
              follow-ups and one that answers "retry": every order nets
              right, nothing quarantined

"The oracle" is the log each reporter appends to (write + fdatasync) after
cashback_report() returned CASHBACK_OK, outside the SDK: "nothing lost" means
every event in it was accepted by the receiver, once after dedupe, under the
event id of its order.

Bounded: every scenario has fixed rounds and counts (environment variables
RELIABILITY_<NAME>, listed by --help, make them longer), every wait has a
timeout, a watchdog ends the run after RELIABILITY_TIMEOUT seconds, and every
process started here is killed on the way out. Only 127.0.0.1 is used.
"""
import argparse
import email.utils
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(
    os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
REPORTER = os.path.join(TOP_BUILDDIR, "tests", "reliability", "reporter")
SHIM = os.path.join(TOP_BUILDDIR, "tests", "reliability", ".libs", "fault.so")
RECEIVER = os.path.join(TOP_SRCDIR, "tests", "receiver", "receiver.py")
KEY = ("k1", "reliability-secret-0123456789")
KEY2 = ("k2", "reliability-second-key-0123456789")

# Lower bounds on delays compare the receiver's clock readings with the
# SDK's millisecond ones: allow for that rounding.
CLOCK_SLACK = 0.01

# Status numbers of include/cashback.h.
OK, E_IO, E_SPOOL_FULL, E_DISK_FULL = 0, 17, 19, 20

SETTINGS = {  # name: (default, meaning)
    "SEED": (0, "random seed (0: from the clock; printed)"),
    "TIMEOUT": (240, "watchdog for the whole run, seconds"),
    "KILL_ROUNDS": (24, "kill: rounds of report + kill -9"),
    "KILL_COUNT": (3000, "kill: sales each reporter would report"),
    "ACK_ROUNDS": (6, "ack: rounds of sender killed after a recorded batch"),
    "CONCURRENT_WRITERS": (8, "concurrent: reporting processes"),
    "CONCURRENT_KILLED": (3, "concurrent: of which killed with -9"),
    "CONCURRENT_COUNT": (400, "concurrent: sales per process"),
    "FAULTS_COUNT": (100, "faults: sales reported per phase"),
    "DAMAGE_COUNT": (40, "damage: sales per segment"),
    "FSYNC_COUNT": (300, "fsync: sales in the random-failure run"),
    "POWERCUT_ROUNDS": (10, "powercut: rounds in sync mode"),
    "POWERCUT_PROCESS_ROUNDS": (4, "powercut: rounds in process mode"),
    "ENOSPC_KIB": (256, "enospc: size of the tmpfs"),
    "CAUSAL_WRITERS": (8, "causal: reporting processes"),
    "CAUSAL_ORDERS": (90, "causal: orders, each with 1-2 follow-ups"),
    "READERROR_COUNT": (150, "readerror: sales in the segment"),
    "FLEET_ORDERS": (60, "fleet: orders (sale on one server, follow-up on "
                     "the other)"),
}


def setting(name):
    default = SETTINGS[name][0]
    value = os.environ.get("RELIABILITY_" + name)
    return int(value) if value else default


class Failure(Exception):
    pass


class Skip(Exception):
    pass


class Abort(Exception):
    """The watchdog or a signal: stop the whole run (and clean up)."""


def check(cond, message):
    if not cond:
        raise Failure(message)


def say(*args):
    print("reliability:", *args, flush=True)


# --- Processes and files ----------------------------------------------------

class Ctx:
    """One run: a work directory, the processes started, the mounts made."""

    def __init__(self):
        # Resolved: the fault shim compares it with /proc/self/fd links.
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="cbrel-"))
        self.procs = []
        self.mounts = []
        self.env = dict(os.environ)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "all_proxy", "ALL_PROXY", "LD_PRELOAD"):
            self.env.pop(k, None)
        self.env["NO_PROXY"] = self.env["no_proxy"] = "127.0.0.1,localhost"

    def path(self, *parts):
        p = os.path.join(self.root, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def dir(self, *parts):
        p = os.path.join(self.root, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def spawn(self, args, env=None, out=None, err=None):
        e = dict(self.env)
        e.update(env or {})
        stdout = open(out, "ab") if out else subprocess.DEVNULL
        stderr = open(err, "ab") if err else subprocess.DEVNULL
        try:
            p = subprocess.Popen(args, env=e, stdout=stdout, stderr=stderr)
        finally:
            for f in (stdout, stderr):
                if f is not subprocess.DEVNULL:
                    f.close()
        self.procs.append(p)
        return p

    def cleanup(self, keep):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for m in reversed(self.mounts):
            subprocess.call(["umount", "-l", m], stderr=subprocess.DEVNULL)
        if keep:
            say("work directory kept:", self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def wait(p, timeout, what):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failure("%s did not finish in %d s" % (what, timeout))


def read_lines(path):
    """The complete lines of a file (a kill -9 may leave a torn last one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    return [ln.decode("utf-8", "replace") for ln in lines[:-1]]


def read_oracle(paths):
    """{event id: order id} of every acknowledged report in these logs."""
    oracle = {}
    for path in paths:
        for line in read_lines(path):
            parts = line.split()
            if len(parts) == 2 and len(parts[1]) == 32:
                oracle[parts[1]] = parts[0]
    return oracle


def read_failures(path):
    """[(order id, event id, status)] of the failed reports."""
    out = []
    for line in read_lines(path):
        parts = line.split()
        if len(parts) == 3:
            out.append((parts[0], parts[1], int(parts[2])))
    return out


# --- The receiver -----------------------------------------------------------

class Receiver:
    def __init__(self, ctx, name, keys=(KEY,), followups="hold"):
        self.dir = ctx.dir(name, "receiver")
        self.store = os.path.join(self.dir, "store")
        port_file = os.path.join(self.dir, "port")
        keyarg = ",".join("%s:%s" % k for k in keys)
        py = os.environ.get("PYTHON3") or sys.executable
        self.proc = ctx.spawn([py, RECEIVER, "--port", "0", "--port-file",
                               port_file, "--keys", keyarg, "--store",
                               self.store, "--log",
                               os.path.join(self.dir, "log"),
                               "--followups", followups,
                               "--max-seconds", "600"],
                              err=os.path.join(self.dir, "stderr"))
        deadline = time.monotonic() + 15
        port = 0
        while time.monotonic() < deadline and not port:
            try:
                with open(port_file) as f:
                    port = int(f.read().strip() or 0)
            except (FileNotFoundError, ValueError):
                time.sleep(0.02)
            check(self.proc.poll() is None, "the receiver exited")
        check(port, "the receiver did not start")
        self.base = "http://127.0.0.1:%d" % port
        self.endpoint = self.base + "/v1/events"
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}))

    def call(self, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.base + path, data=data)
        with self.opener.open(req, timeout=20) as r:
            return json.loads(r.read().decode())

    def control(self, obj):
        check(self.call("/_control", obj).get("ok"), "control %r" % obj)

    def stats(self):
        return self.call("/_stats")

    def accepted(self):
        """{event id: order id} of every event the receiver accepted."""
        out = {}
        for line in read_lines(self.store):
            ev = json.loads(line)
            check(ev["id"] not in out, "event %s accepted twice" % ev["id"])
            out[ev["id"]] = ev["order_id"]
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def verify(rx, oracle, what, exclude=()):
    """Checks every acknowledged event (but `exclude`) was accepted once
    after dedupe under its order's id; returns the receiver's figures."""
    accepted = rx.accepted()
    lost = sorted(eid for eid in oracle if eid not in accepted and
                  eid not in exclude)
    check(not lost, "%s: %d acknowledged event(s) lost, e.g. %s (order %s)"
          % (what, len(lost), lost[0] if lost else "",
             oracle[lost[0]] if lost else ""))
    for eid, order in oracle.items():
        if eid in accepted:
            check(accepted[eid] == order, "%s: event %s is order %s, not %s"
                  % (what, eid, accepted[eid], order))
    # Exactly once: one event id per order, so dedupe counts each sale once.
    by_order = {}
    for eid, order in accepted.items():
        by_order.setdefault(order, set()).add(eid)
    twice = [o for o, ids in by_order.items() if len(ids) > 1]
    check(not twice, "%s: order %s accepted under %d ids" %
          (what, twice[0] if twice else "", len(by_order.get(
              twice[0], ())) if twice else 0))
    stats = rx.stats()
    received = sum(stats["events"].values())
    return {"acknowledged": len(oracle), "accepted": len(accepted),
            "received": received, "resent": received - len(stats["events"]),
            "requests": stats["requests"]}


# --- The reporter -----------------------------------------------------------

def reporter(spool, rx, *extra):
    return [REPORTER, "--spool", spool, "--endpoint", rx.endpoint] + \
        [str(x) for x in extra]


def parse_status(path):
    st = {}
    for line in read_lines(path):
        k, _, v = line.partition("=")
        if v.lstrip("-").isdigit():
            st[k] = int(v)
    return st


def send(ctx, spool, rx, name, seconds=40, extra=(), env=None):
    """Runs a sender process until the spool is empty; (exit code, status)."""
    out = ctx.path(name + ".out")
    if os.path.exists(out):
        os.unlink(out)
    p = ctx.spawn(reporter(spool, rx, "--send", "--seconds", seconds,
                           "--batch", 500, *extra), env=env, out=out,
                  err=ctx.path(name + ".err"))
    rc = wait(p, seconds + 30, "the sender")
    return rc, parse_status(out)


def drain(ctx, spool, rx, name, extra=()):
    rc, st = send(ctx, spool, rx, name, extra=extra)
    check(rc == 0 and st.get("queued") == 0,
          "%s: the sender did not empty the spool (exit %d, status %r)"
          % (name, rc, st))
    return st


def run_report(ctx, spool, rx, name, prefix, count, extra=(), env=None,
               timeout=60):
    log, fails = ctx.path(name + ".oracle"), ctx.path(name + ".fail")
    which = ["--prefix", prefix, "--count", count] if prefix else []
    p = ctx.spawn(reporter(spool, rx, *which, "--log", log, "--fail-log",
                           fails, *extra),
                  env=env, err=ctx.path(name + ".err"))
    rc = wait(p, timeout, "reporter " + name)
    return rc, log, fails


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_mid_way(p, rng, log, most, lo, hi):
    """kill -9 once the reporter acknowledged a random number of reports
    (1..most, counted in its oracle `log`), or after lo..hi seconds,
    whichever comes first: a kill lands mid-way whether fdatasync takes
    milliseconds (a disk) or nothing (tmpfs). Returns None when the process
    ended by itself first, else "count" or "time", what set off the kill."""
    target = rng.randint(1, most)
    deadline = time.monotonic() + rng.uniform(lo, hi)
    while True:
        if p.poll() is not None:
            return None
        why = "count" if count_lines(log) >= target else \
            "time" if time.monotonic() >= deadline else None
        if why:
            p.send_signal(signal.SIGKILL)
            p.wait()
            return why
        time.sleep(0.001)


def kill_at_random(p, rng, lo, hi):
    """Waits lo..hi seconds, then kill -9; True when it was still running."""
    try:
        p.wait(timeout=rng.uniform(lo, hi))
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


# --- Spool files (sdk/cashback_record.h) -------------------------------------

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def records(data):
    """[(offset, end, event id, header size)] of the valid records (CBR1 or
    CBR2) from the start of a segment, stopping at the first invalid byte."""
    out, pos = [], 0
    while pos + 20 <= len(data) and data[pos:pos + 4] in (b"CBR1", b"CBR2"):
        v2 = data[pos:pos + 4] == b"CBR2"
        hdr = 28 if v2 else 20
        n = int.from_bytes(data[pos + 4:pos + 8], "little")
        end = pos + hdr + n
        if n == 0 or end > len(data):
            break
        if v2:
            crc = crc32c(data[pos + 4:pos + 24], crc32c(data[pos + 28:end]))
        else:
            crc = crc32c(data[pos + 20:end], crc32c(data[pos + 4:pos + 16]))
        if crc != int.from_bytes(data[pos + hdr - 4:pos + hdr], "little"):
            break
        payload = json.loads(data[pos + hdr:end].decode())
        out.append((pos, end, payload["id"], hdr))
        pos = end
    return out


def segments(spool):
    return sorted(n for n in os.listdir(spool)
                  if n.startswith("seg-") and n.endswith(".log"))


# --- Scenarios --------------------------------------------------------------

def s_kill(ctx, rng):
    """kill -9 of the reporting process at random points."""
    rx = Receiver(ctx, "kill")
    spool = ctx.path("kill", "spool")
    logs, killed, sender_rounds = [], 0, 0
    by = {"count": 0, "time": 0}
    rounds = setting("KILL_ROUNDS")
    for r in range(rounds):
        threads = 1 if r % 2 == 0 else 4
        extra = ["--threads", threads]
        if r % 3 == 2:  # the SDK's sender thread runs too: killed mid-batch
            extra.append("--sender")
            sender_rounds += 1
        log = ctx.path("kill", "r%d.oracle" % r)
        logs.append(log)
        p = ctx.spawn(reporter(spool, rx, "--prefix", "k%d-" % r, "--count",
                               setting("KILL_COUNT"), "--log", log, *extra),
                      err=ctx.path("kill", "r%d.err" % r))
        # Killed after 1..1/3 of its reports or 10-300 ms, whichever first
        # (by time alone, a reporter on tmpfs was done in 16 of 24 rounds).
        why = kill_mid_way(p, rng, log, max(1, setting("KILL_COUNT") // 3),
                           0.01, 0.3)
        if why:
            killed += 1
            by[why] += 1
        else:
            check(p.returncode == 0, "kill: round %d: reporter exit %d"
                  % (r, p.returncode))
    st = drain(ctx, spool, rx, "kill/drain")
    oracle = read_oracle(logs)
    # Reloaded thank-you pages: 20 of the sales reported again get the same
    # event ids, and the receiver counts none of them twice.
    again = sorted(oracle.values())[:20]
    before = len(rx.accepted())
    rc, log, _ = run_report(ctx, spool, rx, "kill/again", None, 0,
                            ["--orders", ",".join(again)])
    check(rc == 0, "kill: reporting again failed")
    drain(ctx, spool, rx, "kill/drain-again")
    ids = read_oracle([log])
    check(sorted(ids.values()) == again and all(oracle.get(e) == o for e, o
                                                in ids.items()),
          "kill: a sale reported again got another event id")
    check(len(rx.accepted()) == before, "kill: a sale reported again was "
          "accepted again")
    fig = verify(rx, oracle, "kill")
    check(killed >= rounds // 2, "kill: only %d of %d rounds were killed "
          "mid-way" % (killed, rounds))
    # Events stored but never acknowledged (killed inside report) may be
    # delivered too: the shop was not told either way.
    fig.update(rounds=rounds, killed=killed, killed_by_count=by["count"],
               killed_by_time=by["time"], sender_rounds=sender_rounds,
               lost=0, corrupt_skipped=st.get("corrupt_skipped"),
               stored_unacknowledged=fig["accepted"] - fig["acknowledged"])
    rx.stop()
    return fig


def s_ack(ctx, rng):
    """kill -9 of the sender between the receiver's record and the ack."""
    rx = Receiver(ctx, "ack")
    spool = ctx.path("ack", "spool")
    logs, kills, killed_events = [], 0, 0
    rounds = setting("ACK_ROUNDS")
    for r in range(rounds):
        rc, log, _ = run_report(ctx, spool, rx, "ack/r%d" % r, "a%d-" % r, 200)
        check(rc == 0, "ack: reporter exit %d" % rc)
        logs.append(log)
        go = ctx.path("ack", "go%d" % r)
        extra = ["--thread"] if r % 2 else []
        p = ctx.spawn(reporter(spool, rx, "--send", "--seconds", 30, "--go",
                               go, "--batch", 40, *extra),
                      err=ctx.path("ack", "s%d.err" % r))
        # Each batch answered after 30 ms, so that the kill can be armed
        # after a random number of batches went through.
        rx.control({"slow_ms": 30, "count": -1})
        skip = rng.randint(0, 3)
        base = rx.stats()["batches_ok"]
        with open(go, "w"):
            pass
        deadline = time.monotonic() + 10
        while rx.stats()["batches_ok"] < base + skip and p.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        rx.control({"kill_pid": p.pid, "signal": 9})
        wait(p, 40, "the sender")
        rx.control({"clear": True})
        if p.returncode == -signal.SIGKILL:
            kills += 1
            entry = [e for e in rx.stats()["log"]
                     if e["status"] == 0 and e["events"] > 0][-1]
            killed_events += entry["events"]
    st = drain(ctx, spool, rx, "ack/drain")
    fig = verify(rx, read_oracle(logs), "ack")
    check(kills >= rounds // 2, "ack: the sender was killed in only %d of %d "
          "rounds" % (kills, rounds))
    # Every event of a batch recorded before the kill came again.
    check(fig["resent"] >= killed_events, "ack: %d events were in killed "
          "batches but only %d were sent again" % (killed_events,
                                                   fig["resent"]))
    fig.update(rounds=rounds, killed=kills, events_in_killed_batches=
               killed_events, lost=0, corrupt_skipped=st.get(
                   "corrupt_skipped"))
    rx.stop()
    return fig


def s_concurrent(ctx, rng):
    """Many processes report into one spool at once, some killed."""
    rx = Receiver(ctx, "concurrent")
    spool = ctx.path("concurrent", "spool")
    sender = ctx.spawn(reporter(spool, rx, "--send", "--linger", "--seconds",
                                60, "--batch", 200),
                       out=ctx.path("concurrent", "sender.out"),
                       err=ctx.path("concurrent", "sender.err"))
    n, nkill = setting("CONCURRENT_WRITERS"), setting("CONCURRENT_KILLED")
    logs, procs = [], []
    for i in range(n):
        log = ctx.path("concurrent", "w%d.oracle" % i)
        logs.append(log)
        procs.append(ctx.spawn(
            reporter(spool, rx, "--prefix", "c%d-" % i, "--count",
                     setting("CONCURRENT_COUNT"), "--threads", 2, "--log",
                     log),
            err=ctx.path("concurrent", "w%d.err" % i)))
    victims = set(rng.sample(range(n), nkill))
    start = time.monotonic()
    when = {i: start + rng.uniform(0.02, 0.4) for i in victims}
    killed = 0
    for i in sorted(victims, key=lambda v: when[v]):
        time.sleep(max(0.0, when[i] - time.monotonic()))
        if procs[i].poll() is None:
            procs[i].send_signal(signal.SIGKILL)
            killed += 1
    for i, p in enumerate(procs):
        rc = wait(p, 120, "writer %d" % i)
        check(i in victims or rc == 0, "concurrent: writer %d exit %d"
              % (i, rc))
    sender.terminate()
    wait(sender, 30, "the concurrent sender")
    st = drain(ctx, spool, rx, "concurrent/drain")
    fig = verify(rx, read_oracle(logs), "concurrent")
    # A record is written with one write(): neither a reader of an open
    # segment nor a kill -9 leaves a torn record (see docs/reliability.md for
    # the one kernel case that could, a kill inside a write spanning pages).
    check(st.get("corrupt_skipped") == 0, "concurrent: %r damaged records "
          "skipped" % st.get("corrupt_skipped"))
    fig.update(writers=n, killed=killed, lost=0, corrupt_skipped=0)
    rx.stop()
    return fig


def s_newsegment(ctx, rng):
    """A sender looking at a segment the moment a writer creates it."""
    rx = Receiver(ctx, "newsegment")
    spool = ctx.path("newsegment", "spool")
    side = ctx.path("newsegment", "shim.log")
    sender = ctx.spawn(reporter(spool, rx, "--send", "--linger", "--seconds",
                                60, "--batch", 200),
                       out=ctx.path("newsegment", "sender.out"),
                       err=ctx.path("newsegment", "sender.err"))
    # Each writer waits 150 ms before it locks its new segment (the shim),
    # while the sender looks at the spool every 20 ms: a segment visible
    # unlocked would look finished to it and be deleted.
    logs = []
    for i in range(5):
        rc, log, _ = run_report(ctx, spool, rx, "newsegment/w%d" % i,
                                "n%d-" % i, 20,
                                env=shim_env(spool, side, flock_delay_ms=150))
        check(rc == 0, "newsegment: reporter exit %d" % rc)
        logs.append(log)
    sender.terminate()
    wait(sender, 30, "the lingering sender")
    drain(ctx, spool, rx, "newsegment/drain")
    fig = verify(rx, read_oracle(logs), "newsegment")
    fig.update(writers=5, lost=0)
    rx.stop()
    return fig


def log_since(rx, first):
    return rx.stats()["log"][first:]


def s_faults(ctx, rng):
    """The network failing in every way the receiver can."""
    rx = Receiver(ctx, "faults", keys=(KEY, KEY2))
    spool = ctx.path("faults", "spool")
    count = setting("FAULTS_COUNT")
    timeouts = ["--timeouts", "1000,1500", "--backoff", "50,400"]
    logs, figs = [], {}
    phase_no = [0]

    def phase(name, controls, sender_extra=(), want_rc=0,
              clear_faults=False):
        i = phase_no[0]
        phase_no[0] += 1
        rc, log, _ = run_report(ctx, spool, rx, "faults/p%d" % i,
                                "f%d-" % i, count)
        check(rc == 0, "faults: reporter exit %d" % rc)
        logs.append(log)
        first = len(rx.stats()["log"])
        for c in controls:
            rx.control(c() if callable(c) else c)
        t0 = time.monotonic()
        rc, st = send(ctx, spool, rx, "faults/s%d" % i, extra=list(
            timeouts) + ["--batch", 50] + list(sender_extra))
        check(rc == want_rc, "faults: %s: sender exit %d, not %d (%r)"
              % (name, rc, want_rc, st))
        if clear_faults:
            rx.control({"clear": True})
        check(not rx.stats()["faults"], "faults: %s: faults left unused: %r"
              % (name, rx.stats()["faults"]))
        entries = log_since(rx, first)
        figs[name] = {"requests": len(entries),
                      "seconds": round(time.monotonic() - t0, 2)}
        return entries, st

    def first_after(entries, status):
        i = next(k for k, e in enumerate(entries) if e["status"] == status)
        check(i + 1 < len(entries), "faults: no request after the %d"
              % status)
        return entries[i], entries[i + 1]

    # 500 twice: retried with backoff; exactly the failed requests repeat.
    entries, _ = phase("500x2", [{"status": 500, "count": 2}])
    check([e["status"] for e in entries] == [500, 500, 200, 200],
          "faults: 500x2: requests %r" % [e["status"] for e in entries])
    # 503 with Retry-After: 1 (seconds): the retry waits at least 1 s.
    entries, _ = phase("503-retry-after", [{"status": 503, "count": 1,
                                            "retry_after": "1"}])
    fault, nxt = first_after(entries, 503)
    figs["503-retry-after"]["waited"] = round(nxt["t"] - fault["t"], 3)
    check(nxt["t"] - fault["t"] >= 1.0 - CLOCK_SLACK, "faults: retried "
          "%.3f s after a 503 with Retry-After: 1" % (nxt["t"] - fault["t"]))
    # 429 with Retry-After as an HTTP date: not retried before that date.
    date = []

    def http_date():  # 1 to 2 s ahead when the fault is armed
        date.append(int(time.time()) + 2)
        return {"status": 429, "count": 1,
                "retry_after": email.utils.formatdate(date[0], usegmt=True)}
    entries, _ = phase("429-retry-after-date", [http_date])
    fault, nxt = first_after(entries, 429)
    figs["429-retry-after-date"]["waited"] = round(nxt["t"] - fault["t"], 3)
    check(nxt["t"] >= date[0] - CLOCK_SLACK, "faults: retried at %.3f, "
          "before the Retry-After date %d" % (nxt["t"], date[0]))
    # 503 with Retry-After: 0 (and 429 with a date in the past) for 3 s
    # each: Retry-After adds to the backoff, so a sender with a backoff drawn
    # from [0, 1 s] makes about 7 requests (20 or more: probability 1e-8),
    # not one per round trip (it used to replace the backoff: a loop). Then
    # the events are drained.
    for name, control in (
            ("503-retry-after-0", {"status": 503, "retry_after": "0"}),
            ("429-retry-after-past", {"status": 429, "retry_after":
                                      "Sun, 06 Nov 1994 08:49:37 GMT"})):
        i = phase_no[0]
        phase_no[0] += 1
        rc, log, _ = run_report(ctx, spool, rx, "faults/p%d" % i,
                                "f%d-" % i, count)
        check(rc == 0, "faults: reporter exit %d" % rc)
        logs.append(log)
        first = len(rx.stats()["log"])
        rx.control(dict(control, count=-1))
        rc, st = send(ctx, spool, rx, "faults/s%d" % i, seconds=3,
                      extra=list(timeouts[:2]) + ["--backoff", "1000,1000",
                                                  "--batch", 50])
        rx.control({"clear": True})
        n = len(log_since(rx, first))
        figs[name] = {"requests": n, "seconds": 3}
        check(rc == 2 and 1 <= n < 20, "faults: %s: %d requests in 3 s "
              "(sender exit %d)" % (name, n, rc))
        drain(ctx, spool, rx, "faults/d%d" % i, extra=list(timeouts))
    # Connection resets, a request that is never answered (the request
    # timeout ends it), and slow answers.
    entries, _ = phase("reset-hang-slow", [
        {"reset": True, "count": 2}, {"hang": True, "count": 1},
        {"slow_ms": 400, "count": 2}])
    kinds = [e["status"] for e in entries]
    check(kinds[:3] == [0, 0, 0] and kinds[3:] == [200] * (len(kinds) - 3),
          "faults: reset-hang-slow: requests %r" % kinds)
    hung, nxt = entries[2], entries[3]
    check(nxt["t"] - hung["t"] >= 1.5 - 0.1, "faults: a hung request was "
          "given up after %.3f s, before the 1.5 s request timeout"
          % (nxt["t"] - hung["t"]))
    # One event of a batch rejected (HTTP 200, per-event "rejected"): it is
    # quarantined, the 49 others of its batch are delivered.
    phase("reject-one", [{"reject_index": 3, "count": 1}])
    # HTTP 400 for every batch holding one event of the phase, while the
    # endpoint takes the others: halved 50, 25, 12, 6, 3, 1 events; the
    # event then answered 400 alone is quarantined alone.
    entries, _ = phase("400-split", [lambda: {"bad_orders": [
        "f%d-7" % (phase_no[0] - 1)]}])
    rx.control({"clear": True})
    sizes = [e["events"] for e in entries if e["status"] == 200]
    check(sum(sizes) == count - 1, "faults: 400-split: %d events accepted "
          "after the split, not %d" % (sum(sizes), count - 1))
    # HTTP 400 for everything (a proxy, a wrong endpoint): a fault of the
    # path, not of the events. Nothing is quarantined, the sender backs
    # off (two requests per backoff once halved down to one event), status
    # says path_fault; then the path is fixed and everything goes.
    entries, st = phase("400-path", [{"status": 400, "count": -1}],
                        sender_extra=["--seconds", 3, "--backoff", "50,1000"],
                        want_rc=2, clear_faults=True)
    check(st.get("quarantined") == 2 and st.get("path_fault") == 400 and
          st.get("queued") == count,
          "faults: 400-path: status %r" % st)
    check(len(entries) <= 60, "faults: 400-path: %d requests in 3 s"
          % len(entries))
    rc, st = send(ctx, spool, rx, "faults/path-fixed", extra=timeouts)
    check(rc == 0 and st.get("queued") == 0 and st.get("path_fault") == 0,
          "faults: 400-path fixed: exit %d, status %r" % (rc, st))
    # 401: the key is refused, sending pauses and keeps everything; a second
    # sender with the same key does not send at all; a new key resumes.
    # (The pause lasts the backoff cap, here one minute.)
    paused = timeouts + ["--backoff", "50,60000"]
    entries, st = phase("401-pause", [{"status": 401, "count": 1}],
                        sender_extra=paused[4:], want_rc=4)
    check(len(entries) == 1 and st.get("paused") == 1 and
          st.get("queued") == count, "faults: 401: %d requests, status %r"
          % (len(entries), st))
    before = rx.stats()["requests"]
    rc, st = send(ctx, spool, rx, "faults/paused", seconds=3, extra=paused)
    check(rc == 4 and rx.stats()["requests"] == before,
          "faults: a paused sender sent again (exit %d)" % rc)
    rc, st = send(ctx, spool, rx, "faults/newkey", extra=timeouts + [
        "--key", "%s:%s" % KEY2])
    check(rc == 0 and st.get("queued") == 0 and st.get("paused") == 0,
          "faults: with a new key: exit %d, status %r" % (rc, st))

    oracle = read_oracle(logs)
    quarantined = {}
    out = ctx.path("faults", "quarantine.out")
    p = ctx.spawn(reporter(spool, rx, "--quarantine"), out=out)
    check(wait(p, 30, "quarantine list") == 0, "faults: quarantine list")
    for line in read_lines(out):
        eid, reason = line.split()
        quarantined[eid] = reason
    check(sorted(quarantined.values()) == ["http_400", "rejected_by_test"],
          "faults: quarantine holds %r" % quarantined)
    accepted = rx.accepted()
    for eid in quarantined:
        check(eid in oracle and eid not in accepted,
              "faults: quarantined event %s" % eid)
    fig = verify(rx, oracle, "faults", exclude=quarantined)
    fig.update(phases=figs, quarantined=len(quarantined), lost=0)
    rx.stop()
    return fig


def s_damage(ctx, rng):
    """Segments damaged on disk: earlier records survive, damage counted."""
    rx = Receiver(ctx, "damage")
    spool = ctx.path("damage", "spool")
    count = setting("DAMAGE_COUNT")
    logs = []
    for i in range(4):  # one process, one closed segment each
        rc, log, _ = run_report(ctx, spool, rx, "damage/r%d" % i, "d%d-" % i,
                                count)
        check(rc == 0, "damage: reporter exit %d" % rc)
        logs.append(log)
    segs = segments(spool)
    check(len(segs) == 4, "damage: %d segments, not 4" % len(segs))
    recs = []
    for s in segs:
        with open(os.path.join(spool, s), "rb") as f:
            data = f.read()
        recs.append(records(data))
        check(len(recs[-1]) == count and recs[-1][-1][1] == len(data),
              "damage: segment %s does not parse as %d records" % (s, count))
    destroyed, regions = set(), 0

    def path(i):
        return os.path.join(spool, segs[i])
    # 0: cut in the middle of record k: it and everything after are gone.
    k = rng.randint(count // 2, count - 1)
    off, end, _, _ = recs[0][k]
    os.truncate(path(0), off + (end - off) // 2)
    destroyed |= {r[2] for r in recs[0][k:]}
    regions += 1  # the torn tail
    # 1: two records zero-filled in the middle.
    k = rng.randint(1, count - 3)
    with open(path(1), "r+b") as f:
        f.seek(recs[1][k][0])
        f.write(b"\0" * (recs[1][k + 1][1] - recs[1][k][0]))
    destroyed |= {recs[1][k][2], recs[1][k + 1][2]}
    regions += 1
    # 2: one bit flipped in one record's payload.
    k = rng.randint(0, count - 2)
    off, end, _, hdr = recs[2][k]
    pos = rng.randint(off + hdr, end - 1)
    with open(path(2), "r+b") as f:
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ (1 << rng.randint(0, 7))]))
    destroyed.add(recs[2][k][2])
    regions += 1
    # 3: a bit of one record's header flipped, and garbage appended.
    k = rng.randint(1, count - 2)
    pos = recs[3][k][0] + rng.randint(0, recs[3][k][3] - 1)
    with open(path(3), "r+b") as f:
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ 0x10]))
        f.seek(0, 2)
        f.write(bytes(rng.randrange(256) for _ in range(300)).replace(
            b"C", b"c"))
    destroyed.add(recs[3][k][2])
    regions += 2
    # A segment of pure garbage and an empty one.
    fd = os.open(os.path.join(spool, "seg-0000000000000001-1-00000000.log"),
                 os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, bytes(rng.randrange(256) for _ in range(5000)))
    os.close(fd)
    regions += 1
    os.close(os.open(os.path.join(spool, "seg-0000000000000002-1-0000000"
                                  "0.log"), os.O_WRONLY | os.O_CREAT, 0o600))

    # Small batches: damage also falls on batch boundaries.
    st = drain(ctx, spool, rx, "damage/drain", extra=["--batch", 7])
    oracle = read_oracle(logs)
    fig = verify(rx, oracle, "damage", exclude=destroyed)
    accepted = rx.accepted()
    check(not destroyed & set(accepted), "damage: a destroyed record was "
          "delivered")
    check(st.get("corrupt_skipped") == regions, "damage: %r damaged regions "
          "counted, %d made" % (st.get("corrupt_skipped"), regions))
    check(not segments(spool), "damage: segments left: %r" % segments(spool))
    fig.update(records=4 * count, destroyed=len(destroyed),
               damaged_regions=regions, corrupt_skipped=regions, lost=0)
    rx.stop()
    return fig


def check_exact(rx, oracle, failures, what):
    """Every success delivered, no failure delivered."""
    fig = verify(rx, oracle, what)
    accepted = rx.accepted()
    delivered_failures = [f for f in failures if f[1] in accepted]
    check(not delivered_failures, "%s: a failed report was delivered: %r"
          % (what, delivered_failures[:1]))
    return fig


def s_spoolfull(ctx, rng):
    """The spool's cap: report fails with SPOOL_FULL exactly when not
    stored."""
    rx = Receiver(ctx, "spoolfull")
    spool = ctx.path("spoolfull", "spool")
    rc, log, fails = run_report(ctx, spool, rx, "spoolfull/r", "s-", 2000,
                                ["--max-bytes", 65536, "--max-fail", 20])
    failures = read_failures(fails)
    oracle = read_oracle([log])
    check(rc == 3 and len(failures) == 20, "spoolfull: exit %d, %d failures"
          % (rc, len(failures)))
    check(all(f[2] == E_SPOOL_FULL for f in failures),
          "spoolfull: statuses %r" % sorted({f[2] for f in failures}))
    drain(ctx, spool, rx, "spoolfull/drain")
    # Delivered events are reclaimed: the spool takes reports again.
    rc, log2, _ = run_report(ctx, spool, rx, "spoolfull/again", "s2-", 50,
                             ["--max-bytes", 65536])
    check(rc == 0, "spoolfull: reports after the drain failed")
    drain(ctx, spool, rx, "spoolfull/drain2")
    oracle.update(read_oracle([log2]))
    fig = check_exact(rx, oracle, failures, "spoolfull")
    fig.update(stored=len(oracle) - 50, refused=len(failures), lost=0)
    rx.stop()
    return fig


def s_enospc(ctx, rng):
    """The disk full: report fails with DISK_FULL exactly when not stored."""
    mnt = ctx.dir("enospc", "mnt")
    kib = setting("ENOSPC_KIB")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk,mode=0700"
                        % kib, "tmpfs", mnt], stderr=subprocess.PIPE,
                       stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        raise Skip("cannot mount a %d KiB tmpfs (needs root and "
                   "CAP_SYS_ADMIN): %s" % (kib, r.stderr.decode().strip()))
    ctx.mounts.append(mnt)
    rx = Receiver(ctx, "enospc")
    spool = os.path.join(mnt, "spool")
    rc, log, fails = run_report(ctx, spool, rx, "enospc/r", "e-", 100000,
                                ["--max-fail", 20])
    failures = read_failures(fails)
    oracle = read_oracle([log])
    check(rc == 3 and len(failures) == 20, "enospc: exit %d, %d failures"
          % (rc, len(failures)))
    check(all(f[2] == E_DISK_FULL for f in failures),
          "enospc: statuses %r" % sorted({f[2] for f in failures}))
    drain(ctx, spool, rx, "enospc/drain")
    rc, log2, _ = run_report(ctx, spool, rx, "enospc/again", "e2-", 50)
    check(rc == 0, "enospc: reports after the drain failed")
    drain(ctx, spool, rx, "enospc/drain2")
    oracle.update(read_oracle([log2]))
    fig = check_exact(rx, oracle, failures, "enospc")
    fig.update(tmpfs_kib=kib, stored=len(oracle) - 50,
               refused=len(failures), lost=0)
    rx.stop()
    return fig


def shim_env(spool, log, **kw):
    check(os.path.exists(SHIM), "no fault shim at %s" % SHIM)
    env = {"LD_PRELOAD": SHIM, "CASHBACK_FAULT_DIR": spool,
           "CASHBACK_FAULT_LOG": log}
    for k, v in kw.items():
        env["CASHBACK_FAULT_" + k.upper()] = str(v)
    return env


def shim_lines(path, kind):
    return [ln.split("\t") for ln in read_lines(path)
            if ln.startswith(kind + "\t")]


def s_fsync(ctx, rng):
    """fdatasync failing: the report fails exactly for those events."""
    rx = Receiver(ctx, "fsync")
    figs = {}
    # One thread: report i makes fdatasync call i + 1 on the spool.
    spool = ctx.path("fsync", "spool1")
    side = ctx.path("fsync", "shim1.log")
    fail_at = sorted(rng.sample(range(2, 40), 4))
    rc, log, fails = run_report(
        ctx, spool, rx, "fsync/one", "y-", 40,
        env=shim_env(spool, side, calls="fdatasync",
                     fail=",".join(map(str, fail_at))))
    failures = read_failures(fails)
    check(rc == 3, "fsync: reporter exit %d" % rc)
    injected = [int(f[1]) for f in shim_lines(side, "F")]
    check(injected == fail_at, "fsync: injected %r, asked %r"
          % (injected, fail_at))
    check(sorted((f[0], f[2]) for f in failures) ==
          sorted(("y-%d" % (n - 1), E_IO) for n in fail_at),
          "fsync: failed reports %r, fdatasync calls failed %r"
          % (failures, fail_at))
    # Each failure abandons the segment: later reports go to a new one.
    check(len(segments(spool)) == 1 + len(fail_at), "fsync: %d segments "
          "after %d failures" % (len(segments(spool)), len(fail_at)))
    oracle = read_oracle([log])
    check(len(oracle) == 40 - len(fail_at), "fsync: %d successes"
          % len(oracle))
    drain(ctx, spool, rx, "fsync/drain1")
    all_failures = list(failures)
    figs["one-thread"] = {"reports": 40, "fdatasync_failed": len(fail_at),
                          "report_failed": len(failures)}
    # ENOSPC from fdatasync is a full disk.
    side3 = ctx.path("fsync", "shim3.log")
    rc, log3, fails3 = run_report(
        ctx, spool, rx, "fsync/enospc", "z-", 5,
        env=shim_env(spool, side3, calls="fdatasync", fail=3, errno=28))
    failures3 = read_failures(fails3)
    check([(f[0], f[2]) for f in failures3] == [("z-2", E_DISK_FULL)],
          "fsync: with ENOSPC: %r" % failures3)
    all_failures += failures3
    oracle.update(read_oracle([log3]))
    # Four threads, random failures: group commit fails every event that
    # was waiting on the failed fdatasync, and none that was not.
    spool2 = ctx.path("fsync", "spool2")
    side2 = ctx.path("fsync", "shim2.log")
    n = setting("FSYNC_COUNT")
    rc, log2, fails2 = run_report(
        ctx, spool2, rx, "fsync/threads", "x-", n, ["--threads", 4],
        env=shim_env(spool2, side2, calls="fdatasync", fail_p=0.1,
                     seed=rng.randrange(1, 1 << 30)))
    failures2 = read_failures(fails2)
    injected2 = len(shim_lines(side2, "F"))
    check(injected2 > 0 and len(failures2) >= injected2,
          "fsync: %d fdatasync failures injected, %d reports failed"
          % (injected2, len(failures2)))
    check(all(f[2] == E_IO for f in failures2), "fsync: statuses %r"
          % sorted({f[2] for f in failures2}))
    oracle2 = read_oracle([log2])
    check(len(oracle2) + len(failures2) == n, "fsync: %d + %d != %d"
          % (len(oracle2), len(failures2), n))
    drain(ctx, spool2, rx, "fsync/drain2")
    drain(ctx, spool, rx, "fsync/drain3")
    oracle.update(oracle2)
    all_failures += failures2
    figs["four-threads"] = {"reports": n, "fdatasync_failed": injected2,
                            "report_failed": len(failures2)}
    fig = check_exact(rx, oracle, all_failures, "fsync")
    # With the sender thread running: a sender reads an open segment only as
    # far as its writer published it durable (<segment>.sync), so no event
    # whose report failed is delivered (docs/reliability.md, section 1).
    spool4 = ctx.path("fsync", "spool4")
    side4 = ctx.path("fsync", "shim4.log")
    rc, log4, fails4 = run_report(
        ctx, spool4, rx, "fsync/sender", "w-", n, ["--threads", 4,
                                                   "--sender"],
        env=shim_env(spool4, side4, calls="fdatasync", fail_p=0.1,
                     seed=rng.randrange(1, 1 << 30)))
    drain(ctx, spool4, rx, "fsync/drain4")
    failures4 = read_failures(fails4)
    oracle4 = read_oracle([log4])
    verify(rx, oracle4, "fsync (with a sender)")
    accepted = rx.accepted()
    delivered_anyway = sum(1 for f in failures4 if f[1] in accepted)
    check(delivered_anyway == 0, "fsync: %d reports failed but their events "
          "were delivered" % delivered_anyway)
    figs["four-threads-and-sender"] = {
        "reports": n, "fdatasync_failed": len(shim_lines(side4, "F")),
        "report_failed": len(failures4),
        "failed_but_delivered": delivered_anyway}
    fig.update(runs=figs, lost=0)
    rx.stop()
    return fig


def power_cut(spool, side):
    """Discards what was not on disk: each file back to its size at its last
    fdatasync/fsync, each entry missing from its directory's last fsync
    deleted (the spool directory itself too, when its parent's last fsync
    did not list it). The shim's side log says what was synced (fault.c)."""
    sizes, listings = {}, {}
    for parts in (ln.split("\t") for ln in read_lines(side)):
        if parts[0] == "S" and len(parts) == 3:
            sizes[parts[2]] = int(parts[1])
        elif parts[0] == "D" and len(parts) == 3:
            listings[parts[1]] = set(parts[2].split("/")) - {""}
    cut = deleted = 0
    if not os.path.isdir(spool):
        return cut, deleted
    parent, base = os.path.split(spool)
    if base not in listings.get(parent, ()):
        for name in os.listdir(spool):
            cut += os.path.getsize(os.path.join(spool, name))
            deleted += 1
        shutil.rmtree(spool)
        return cut, deleted
    listed = listings.get(spool)
    for name in os.listdir(spool):
        p = os.path.join(spool, name)
        if listed is None or name not in listed:
            cut += os.path.getsize(p)
            os.unlink(p)
            deleted += 1
            continue
        size, keep = os.path.getsize(p), sizes.get(p, 0)
        if size > keep:
            os.truncate(p, keep)
            cut += size - keep
    return cut, deleted


def s_powercut(ctx, rng):
    """A power cut after kill -9, simulated by the shim's synced sizes."""
    rx = Receiver(ctx, "powercut")
    figs = {}
    for mode in ("sync", "process"):
        rounds = setting("POWERCUT_ROUNDS" if mode == "sync" else
                         "POWERCUT_PROCESS_ROUNDS")
        # The SDK creates the spool directory: the shim watches its parent.
        parent = ctx.dir("powercut", mode)
        spool = os.path.join(parent, "spool")
        side = os.path.join(parent, "shim.log")
        logs, killed, cut, deleted = [], 0, 0, 0
        for r in range(rounds):
            log = ctx.path("powercut", mode, "r%d.oracle" % r)
            logs.append(log)
            extra = ["--threads", 4, "--durability", mode]
            if mode == "sync" and r % 2:
                extra.append("--sender")  # acks and deletions in flight too
            p = ctx.spawn(reporter(spool, rx, "--prefix", "p%s%d-" % (
                mode[0], r), "--count", 5000, "--log", log, *extra),
                env=shim_env(parent, side),
                err=ctx.path("powercut", mode, "r%d.err" % r))
            if kill_at_random(p, rng, 0.02, 0.3):
                killed += 1
            c, d = power_cut(spool, side)
            cut += c
            deleted += d
        drain(ctx, spool, rx, "powercut/%s-drain" % mode)
        oracle = read_oracle(logs)
        accepted = rx.accepted()
        lost = [eid for eid in oracle if eid not in accepted]
        figs[mode] = {"rounds": rounds, "killed": killed,
                      "acknowledged": len(oracle), "lost": len(lost),
                      "bytes_discarded": cut, "files_deleted": deleted}
        if mode == "sync":
            check(killed >= rounds // 2, "powercut: only %d of %d rounds "
                  "killed mid-way" % (killed, rounds))
            fig = verify(rx, oracle, "powercut (sync)")
            figs[mode].update(resent=fig["resent"])
    rx.stop()
    return figs


class Writer:
    """A reporter in command mode: one line in, one answer out, so that the
    driver knows when a report has returned."""

    def __init__(self, ctx, spool, rx, name):
        self.log = ctx.path(name + ".oracle")
        e = dict(ctx.env)
        err = open(ctx.path(name + ".err"), "ab")
        try:
            self.proc = subprocess.Popen(
                reporter(spool, rx, "--commands", "--log", self.log), env=e,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        finally:
            err.close()
        ctx.procs.append(self.proc)
        self.sent = 0

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.sent += 1

    def answers(self):
        """Flushes what was sent and reads every answer: [(order, type, id,
        status)]."""
        self.proc.stdin.flush()
        out = []
        while self.sent:
            line = self.proc.stdout.readline().decode()
            check(line, "causal: a writer exited (%r)" % self.proc.poll())
            order, typ, eid, status = line.split()
            out.append((order, typ, eid, int(status)))
            self.sent -= 1
        return out

    def close(self):
        self.proc.stdin.close()
        return wait(self.proc, 30, "a causal writer")


def s_causal(ctx, rng):
    """Sale and follow-ups of one order reported by different processes
    (the PHP-FPM case), through an outage: sent in the order reported."""
    rx = Receiver(ctx, "causal")
    spool = ctx.path("causal", "spool")
    nw, norders = setting("CAUSAL_WRITERS"), setting("CAUSAL_ORDERS")
    writers = [Writer(ctx, spool, rx, "causal/w%d" % i) for i in range(nw)]
    sender = ctx.spawn(reporter(spool, rx, "--send", "--linger", "--seconds",
                                120, "--batch", 50),
                       out=ctx.path("causal", "sender.out"),
                       err=ctx.path("causal", "sender.err"))
    # The plan: per order a sale, then one or two follow-ups, each step on
    # another process than the step before, each reported only once the one
    # before it returned (waves). Net amounts as the network must end up.
    plan, expect = {}, {}
    for o in range(norders):
        order = "co%d" % o
        amount = 1000 + rng.randrange(9000)
        kind = o % 4
        if kind == 0:  # a partial refund, then confirmed
            r = rng.randrange(1, amount)
            steps = [("sale", amount), ("refund", r), ("confirm", None)]
            expect[order] = amount - r
        elif kind == 1:  # cancelled
            steps = [("sale", amount), ("cancel", None)]
            expect[order] = 0
        elif kind == 2:  # two partial refunds
            r1 = rng.randrange(1, amount // 2)
            r2 = rng.randrange(1, amount // 2)
            steps = [("sale", amount), ("refund", r1), ("refund", r2)]
            expect[order] = amount - r1 - r2
        else:  # confirmed
            steps = [("sale", amount), ("confirm", None)]
            expect[order] = amount
        procs = [rng.randrange(nw)]
        for _ in steps[1:]:
            procs.append((procs[-1] + 1 + rng.randrange(nw - 1)) % nw)
        plan[order] = list(zip(steps, procs))
    orders = list(plan)
    blocks = [orders[:norders // 3], orders[norders // 3:2 * norders // 3],
              orders[2 * norders // 3:]]
    ids = {}  # order -> [event id of each step]
    outage_requests = 0
    for b, block in enumerate(blocks):
        if b == 1:  # the outage: everything piles up in the spool
            before = rx.stats()["requests"]
            rx.control({"status": 503, "count": -1})
        for step in range(3):
            todo = [o for o in block if step < len(plan[o])]
            for o in todo:
                (typ, amount), w = plan[o][step]
                line = "%s %s" % (typ, o)
                if amount is not None:
                    line += " %d" % amount
                if typ == "refund":
                    line += " %s-r%d" % (o, step)
                writers[w].send(line)
            for w in writers:
                for order, typ, eid, status in w.answers():
                    check(status == 0, "causal: %s %s failed: %d"
                          % (typ, order, status))
                    ids.setdefault(order, []).append(eid)
            if b == 1:
                time.sleep(0.05)  # the sender retries meanwhile
        if b == 1:
            time.sleep(0.5)
            outage_requests = rx.stats()["requests"] - before
            rx.control({"clear": True})
    for w in writers:
        check(w.close() == 0, "causal: a writer failed")
    sender.terminate()
    wait(sender, 30, "the causal sender")
    st = drain(ctx, spool, rx, "causal/drain")
    check(st.get("quarantined") == 0, "causal: %r quarantined"
          % st.get("quarantined"))
    # Every acknowledged event accepted.
    oracle = {}
    for w in writers:
        for line in read_lines(w.log):
            parts = line.split()
            oracle[parts[1]] = parts[0]
    accepted = {}
    for line in read_lines(rx.store):
        ev = json.loads(line)
        accepted[ev["id"]] = ev
    lost = [e for e in oracle if e not in accepted]
    check(not lost, "causal: %d acknowledged event(s) lost, e.g. %s"
          % (len(lost), lost[:1]))
    # The order the receiver first saw them in (its counters keep the order
    # in which ids first arrived).
    seen = list(rx.stats()["events"])
    first = {eid: i for i, eid in enumerate(seen)}
    early = []
    for order, eids in ids.items():
        for a, b in zip(eids, eids[1:]):
            if first[b] < first[a]:
                early.append(order)
                break
    check(not early, "causal: %d of %d orders had a follow-up seen before "
          "the step it followed, e.g. %s" % (len(early), norders,
                                              early[:3]))
    # Net amounts.
    net = {}
    cancelled = set()
    for ev in accepted.values():
        o = ev["order_id"]
        if ev["type"] == "sale":
            net[o] = net.get(o, 0) + ev["amount"]
        elif ev["type"] == "refund":
            net[o] = net.get(o, 0) - ev["amount"]
        elif ev["type"] == "cancel":
            cancelled.add(o)
    wrong = [o for o in expect
             if (0 if o in cancelled else net.get(o)) != expect[o]]
    check(not wrong, "causal: %d orders with a wrong net amount, e.g. %s: "
          "%r, not %r" % (len(wrong), wrong[:1], net.get(wrong[0]) if wrong
                          else None, expect[wrong[0]] if wrong else None))
    fig = {"writers": nw, "orders": norders, "events": len(oracle),
           "follow_ups": len(oracle) - norders, "seen_early": 0,
           "outage_requests": outage_requests, "quarantined": 0, "lost": 0,
           "resent": sum(rx.stats()["events"].values()) - len(seen)}
    rx.stop()
    return fig


def s_readerror(ctx, rng):
    """A transient read error on a closed segment is not its end."""
    rx = Receiver(ctx, "readerror")
    spool = ctx.path("readerror", "spool")
    count = setting("READERROR_COUNT")
    rc, log, _ = run_report(ctx, spool, rx, "readerror/r", "re-", count)
    check(rc == 0, "readerror: reporter exit %d" % rc)
    check(len(segments(spool)) == 1, "readerror: %d segments"
          % len(segments(spool)))
    side = ctx.path("readerror", "shim.log")
    # The first read of the segment past its start fails, once.
    env = shim_env(spool, side, pread_fail="1")
    rc, st = send(ctx, spool, rx, "readerror/send", extra=["--batch", 100],
                  env=env)
    check(rc == 0 and st.get("queued") == 0, "readerror: the sender did not "
          "empty the spool (exit %d, status %r)" % (rc, st))
    check(len(shim_lines(side, "R")) == 1, "readerror: %d read(s) failed, "
          "not 1" % len(shim_lines(side, "R")))
    fig = verify(rx, read_oracle([log]), "readerror")
    # Counted when it failed, and 0 again once the segment read (it counts
    # the failures since the last collection without one).
    check(st.get("read_errors") == 0, "readerror: read_errors %r after the "
          "drain, not 0" % st.get("read_errors"))
    check(not segments(spool), "readerror: segments left: %r"
          % segments(spool))
    fig.update(reads_failed=1, read_errors_after=0, lost=0)
    rx.stop()
    return fig


def s_fleet(ctx, rng):
    """Two servers of one shop, each with its own spool: the sales are on
    server A, the refunds, cancels and confirms of the same orders on server
    B, and B's sender delivers first (A's is down). Against a receiver that
    holds follow-ups, then one that answers "retry" (the SDK defers them):
    every order ends with its right net amount, nothing is quarantined.
    B also has sales of its own behind the follow-ups: they are delivered
    at once, the cursor moves past the deferred events, and the deferred
    ones do not storm the network while they wait. B's sender is killed
    (-9) while they wait and another takes over."""
    count = setting("FLEET_ORDERS")
    orders = ["o%d" % i for i in range(count)]
    kinds = ("refund", "cancel", "confirm")
    by_kind = {k: [o for i, o in enumerate(orders) if i % 3 == n]
               for n, k in enumerate(kinds)}
    fig = {}
    for mode in ("hold", "retry"):
        t0 = time.monotonic()
        name = "fleet-" + mode
        rx = Receiver(ctx, name, followups=mode)
        a, b = ctx.path(name, "server-a"), ctx.path(name, "server-b")
        rc, _, _ = run_report(ctx, a, rx, name + "/sales", None, None,
                              extra=["--orders", ",".join(orders)])
        check(rc == 0, "fleet: reporting the sales: exit %d" % rc)
        for k in kinds:
            rc, _, _ = run_report(ctx, b, rx, name + "/" + k, None, None,
                                  extra=["--orders", ",".join(by_kind[k]),
                                         "--type", k])
            check(rc == 0, "fleet: reporting the %ss: exit %d" % (k, rc))
        own = ["b%d" % i for i in range(20)]
        rc, _, _ = run_report(ctx, b, rx, name + "/own", None, None,
                              extra=["--orders", ",".join(own)])
        check(rc == 0, "fleet: reporting B's own sales: exit %d" % rc)
        # Server B delivers first; A's sender is down.
        out_b = ctx.path(name, "sender-b.out")
        sender_b = ctx.spawn(reporter(b, rx, "--send", "--seconds", 60,
                                      "--batch", 500), out=out_b,
                             err=ctx.path(name, "sender-b.err"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = rx.stats()
            seen = sum(1 for o in st["orders"].values() if o["held"]) \
                if mode == "hold" else st["retried"]
            own_in = sum(1 for o in own if o in st["orders"])
            if seen >= count and own_in == len(own):
                break
            time.sleep(0.05)
        check(seen >= count and own_in == len(own),
              "fleet: %s: B's events not seen (%d of %d follow-ups, %d of "
              "%d own sales)" % (mode, seen, count, own_in, len(own)))
        # A second of waiting for A: B's cursor has moved past everything,
        # and the deferred events go again on their backoff, not in a loop.
        first = st["requests"]
        time.sleep(1.0)
        waiting = rx.stats()["requests"] - first
        out_s = ctx.path(name, "status-b.out")
        p = ctx.spawn(reporter(b, rx, "--status"), out=out_s)
        check(wait(p, 30, "status") == 0, "fleet: status of B")
        st_wait = parse_status(out_s)
        check(st_wait.get("queued") == 0 and st_wait.get("deferred") ==
              (count if mode == "retry" else 0),
              "fleet: %s: B while A is down: %r" % (mode, st_wait))
        check(waiting <= 40, "fleet: %s: %d requests in 1 s while waiting "
              "for the sales" % (mode, waiting))
        st = rx.stats()
        before_sales = {"retried": st["retried"],
                        "held": sum(o["held"] for o in st["orders"].values()),
                        "counted": sum(1 for k, o in st["orders"].items()
                                       if o["net"] is not None and
                                       k in orders)}
        check(before_sales["counted"] == 0, "fleet: %s: an order counted "
              "before its sale: %r" % (mode, before_sales))
        # B's sender is killed (-9) while its follow-ups wait, and a new
        # one takes over: the deferred events survive it.
        sender_b.kill()
        wait(sender_b, 30, "sender B (killed)")
        out_b = ctx.path(name, "sender-b2.out")
        sender_b = ctx.spawn(reporter(b, rx, "--send", "--seconds", 60,
                                      "--batch", 500), out=out_b,
                             err=ctx.path(name, "sender-b2.err"))
        # Server A's sender is back.
        st_a = drain(ctx, a, rx, name + "/sender-a")
        rc = wait(sender_b, 60, "sender B")
        st_b = parse_status(out_b)
        check(rc == 0 and st_b.get("queued") == 0 and
              st_b.get("deferred") == 0,
              "fleet: %s: sender B: exit %d, status %r" % (mode, rc, st_b))
        check(st_a.get("quarantined") == 0 and st_b.get("quarantined") == 0,
              "fleet: %s: quarantined: A %r, B %r" % (mode, st_a, st_b))
        # Every order nets as if its events had come in order.
        got = rx.stats()["orders"]
        wrong = []
        for i, o in enumerate(orders):
            sale = 1000 + i % 9000
            k = kinds[i % 3]
            j = by_kind[k].index(o)
            want = {"refund": sale - (100 + j % 50), "cancel": 0,
                    "confirm": sale}[k]
            if got.get(o, {}).get("net") != want:
                wrong.append((o, k, got.get(o), want))
        check(not wrong, "fleet: %s: %d orders net wrong, e.g. %r"
              % (mode, len(wrong), wrong[:1]))
        stats = rx.stats()
        fig[mode] = {"orders": count, "followups_first": count,
                     "b_own_sales": len(own),
                     "requests_in_1s_waiting": waiting,
                     "before_sales": before_sales,
                     "retried": stats["retried"],
                     "requests": stats["requests"], "quarantined": 0,
                     "wrong_net": 0,
                     "seconds": round(time.monotonic() - t0, 2)}
        rx.stop()
    return fig


SCENARIOS = {
    "kill": s_kill, "ack": s_ack, "concurrent": s_concurrent,
    "newsegment": s_newsegment,
    "faults": s_faults, "damage": s_damage, "spoolfull": s_spoolfull,
    "fsync": s_fsync, "powercut": s_powercut, "enospc": s_enospc,
    "causal": s_causal, "readerror": s_readerror,
    "fleet": s_fleet,
}


def main():
    epilog = "environment:\n" + "\n".join(
        "  RELIABILITY_%-24s %s (default %s)" % (k, v[1], v[0])
        for k, v in SETTINGS.items())
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help="comma-separated, of: " + ", ".join(SCENARIOS))
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")
    args = ap.parse_args()
    names = [n for n in args.scenarios.split(",") if n]
    for n in names:
        if n not in SCENARIOS:
            ap.error("unknown scenario %r" % n)
    if not os.access(REPORTER, os.X_OK):
        say("no reporter at %s (make check builds it)" % REPORTER)
        return 1
    seed = setting("SEED") or int(time.time() * 1000) % 1000000007
    say("seed %d (RELIABILITY_SEED=%d repeats this run)" % (seed, seed))

    def on_alarm(signum, frame):
        raise Abort("watchdog: the run took more than %d s"
                    % setting("TIMEOUT"))
    def on_term(signum, frame):  # clean up (processes, mounts) on the way
        raise Abort("terminated by signal %d" % signum)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    signal.alarm(setting("TIMEOUT"))
    ctx = Ctx()
    failed = skipped = 0
    start = time.monotonic()
    try:
        for n in names:
            rng = random.Random("%d-%s" % (seed, n))
            t0 = time.monotonic()
            try:
                fig = SCENARIOS[n](ctx, rng)
            except Skip as e:
                say("%s: SKIPPED: %s" % (n, e))
                skipped += 1
                continue
            except Failure as e:
                say("%s: FAILED: %s" % (n, e))
                failed += 1
                continue
            say("%s: ok in %.1f s: %s" % (n, time.monotonic() - t0,
                                          json.dumps(fig, sort_keys=True)))
    except Abort as e:
        say("FAILED:", e)
        failed += 1
    finally:
        signal.alarm(0)
        ctx.cleanup(keep=args.keep or failed > 0)
    say("%d scenario(s), %d failed, %d skipped, %.1f s"
        % (len(names), failed, skipped, time.monotonic() - start))
    if failed:
        return 1
    return 77 if skipped == len(names) else 0


if __name__ == "__main__":
    sys.exit(main())
