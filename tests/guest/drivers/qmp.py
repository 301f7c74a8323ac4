"""A small QMP and HMP client for guest-test drivers (standard library
only), and helpers to follow the guest's serial log the runner writes."""

import json
import os
import re
import socket
import time


# How much slower than idle this machine runs guests (the runner exports
# the scale it applies to scenario timeouts): every wait of the drivers
# grows by it, through deadline_after().
SCALE = max(1.0, float(os.environ.get("KESTREL_TIMEOUT_SCALE") or 1))


def deadline_after(seconds):
    """time.monotonic() at which a wait of `seconds` on an idle machine ends."""
    return time.monotonic() + seconds * SCALE


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok: " + what, flush=True)


def recv_line(sock):
    """Bytes from `sock` up to a newline (all a peer sent before it closed,
    when no newline came), for the caller to judge."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def connect_unix(path, timeout=60):
    deadline = deadline_after(timeout)
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(timeout * SCALE)  # replies to commands; a slow machine is slower
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise Failure("cannot connect to " + path)
            time.sleep(0.1)


# The driver's newest QMP connection: main() asks it for the VMM's state
# when a check fails.
_newest_qmp = None


class Qmp:
    def __init__(self, path, timeout=60):
        global _newest_qmp
        self.sock = connect_unix(path, timeout)
        self.buf = b""
        self.events = []
        self.greeting = self.read_message()
        _newest_qmp = self

    def read_message(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise Failure("QMP line not CRLF-terminated: %r" % line)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply, keeping events that arrive before it."""
        while True:
            msg = self.read_message()
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def execute(self, name, args=None, **extra):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        msg.update(extra)
        self.send_raw(json.dumps(msg).encode() + b"\n")
        return self.reply()

    def ok(self, name, args=None):
        r = self.execute(name, args)
        if "return" not in r:
            raise Failure("%s failed: %s" % (name, r))
        return r["return"]

    def wait_event(self, name, timeout=120):
        deadline = deadline_after(timeout)
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise Failure("no %s event within %d s" % (name, timeout))
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            msg = self.read_message()
            if "event" not in msg:
                raise Failure("unexpected reply while waiting for %s: %s" % (name, msg))
            self.events.append(msg)

    def close(self):
        self.sock.close()


class Hmp:
    PROMPT = b"(qemu) "

    def __init__(self, path, timeout=60):
        self.sock = connect_unix(path, timeout)
        self.banner = self.until_prompt()

    def until_prompt(self):
        data = b""
        while not data.endswith(self.PROMPT):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("HMP connection closed")
            data += chunk
        return data[:-len(self.PROMPT)].decode(errors="replace")

    def command(self, line):
        self.sock.sendall(line.encode() + b"\r")
        out = self.until_prompt().replace("\r", "")
        # The monitor echoes the typed line first.
        return out.split("\n", 1)[1] if "\n" in out else ""


def wait_log(path, regex, timeout=180, count=1):
    deadline = deadline_after(timeout)
    pattern = re.compile(regex, re.MULTILINE)  # ^ and $ anchor at lines, as in expect lists
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if len(pattern.findall(f.read())) >= count:
                    print("ok: guest printed %r" % regex, flush=True)
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise Failure("guest did not print %r (x%d) within %d s" % (regex, count, timeout))


def log_count(path, regex):
    with open(path, errors="replace") as f:
        return len(re.findall(regex, f.read(), re.MULTILINE))


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def read_pid(path, timeout=60):
    deadline = deadline_after(timeout)
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise Failure("no pidfile " + path)


def main(steps):
    """Runs a driver's steps; exit status 0 only if every check held."""
    try:
        steps()
    except (Failure, OSError, ValueError, KeyError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e), flush=True)
        print_vmm_state()
        return 1
    print("driver: all checks passed", flush=True)
    return 0


def print_vmm_state():
    """What the VMM says of itself when a check failed (a guest that went
    silent: where its vCPUs are), through the driver's newest QMP
    connection. Best effort: the VMM may be gone or the connection mid-reply."""
    q = _newest_qmp
    if q is None:
        return
    print("state of the VMM at the failure (QMP):", flush=True)
    for n, (name, args) in enumerate([("query-status", None),
                                      ("human-monitor-command", {"command-line": "info cpus"}),
                                      ("human-monitor-command", {"command-line": "info registers -a"}),
                                      # where the interrupt controllers send each line (a lost
                                      # device interrupt leaves a guest idle and silent)
                                      ("human-monitor-command", {"command-line": "info pic"})]):
        try:
            q.sock.settimeout(10)
            msg = {"execute": name, "id": "state-%d" % n}
            if args:
                msg["arguments"] = args
            q.send_raw(json.dumps(msg).encode() + b"\n")
            reply = q.reply()
            while reply.get("id") != msg["id"]:
                reply = q.reply()
            answer = reply.get("return", reply)
            text = answer if isinstance(answer, str) else json.dumps(answer)
            print("  %s %s:" % (name, args["command-line"] if args else ""), flush=True)
            print("\n".join("    " + line for line in text.replace("\r", "").splitlines()), flush=True)
        except (Failure, OSError, ValueError) as e:
            print("  %s: no answer (%s)" % (name, e), flush=True)
            return


def wait_exit(pid, timeout=60):
    """Waits until process `pid` is gone (the VMM is not our child)."""
    deadline = deadline_after(timeout)
    while os.path.exists("/proc/%d" % pid):
        if time.monotonic() > deadline:
            raise Failure("pid %d still running after %d s" % (pid, timeout))
        time.sleep(0.2)


def find_block(q, path):
    for b in q.ok("query-block"):
        if b.get("inserted", {}).get("file") == path:
            return b
    raise Failure("query-block has no disk for " + path)


def find_blockstats(q, device):
    for s in q.ok("query-blockstats"):
        if s.get("device") == device:
            return s["stats"]
    raise Failure("query-blockstats has no device " + device)


def log_value(path, key):
    """VALUE from the last 'KEY=VALUE' line of the guest's serial log."""
    found = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith(key + "="):
                found = line[len(key) + 1:]
    if found is None:
        raise Failure("guest printed no %s=" % key)
    return found
