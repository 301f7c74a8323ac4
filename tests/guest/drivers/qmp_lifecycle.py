"""Drives a guest started with -S through QMP: negotiation, prelaunch, cont,
stop/cont with events, queries, bad input, a second client, 50 clients
connecting and leaving, HMP through human-monitor-command, and finally
system_powerdown: the guest's ACPI power button handler powers it off.

usage: qmp_lifecycle.py QMP_SOCKET SECOND_QMP_SOCKET SERIAL_LOG PIDFILE WORKDIR"""

import json
import os
import socket
import sys
import time

from qmp import Qmp, check, connect_unix, log_count, main, open_fds, read_pid, wait_log


def negotiate(q):
    v = q.greeting["QMP"]["version"]["qemu"]
    check(set(v) == {"major", "minor", "micro"}, "greeting has a QEMU version")
    r = q.execute("query-status")
    check(r.get("error", {}).get("class") == "CommandNotFound", "commands refused before negotiation")
    check(q.ok("qmp_capabilities") == {}, "qmp_capabilities")


def prelaunch_then_cont(q, log):
    s = q.ok("query-status")
    check(s["status"] == "prelaunch" and s["running"] is False, "-S: status prelaunch, not running")
    time.sleep(2)
    check(log_count(log, "Linux version") == 0, "no guest output while in prelaunch")
    q.ok("cont")
    q.wait_event("RESUME", 10)
    wait_log(log, "KTEST-POWER-BUTTON-READY")


def stop_and_cont(q, q2):
    q.ok("stop")
    for client in (q, q2):
        client.wait_event("STOP", 10)
    check(q.ok("query-status")["status"] == "paused", "status paused after stop")
    out = q.ok("human-monitor-command", {"command-line": "info status"})
    check("VM status: paused" in out, "HMP through QMP: info status paused")
    q.ok("cont")
    for client in (q, q2):
        client.wait_event("RESUME", 10)
    s = q2.ok("query-status")
    check(s["status"] == "running" and s["running"] is True, "status running after cont")


def queries(q, pid, workdir):
    cpus = q.ok("query-cpus-fast")
    check(len(cpus) == 2, "query-cpus-fast lists 2 vCPUs")
    check(all(os.path.exists("/proc/%d/task/%d" % (pid, c["thread-id"])) for c in cpus),
          "vCPU thread-ids are kestrel's threads")
    check(q.ok("query-kvm") == {"enabled": True, "present": True}, "query-kvm")
    check(q.ok("query-name").get("name") == "lifecycle", "query-name")
    pci = q.ok("query-pci")
    ids = {(d["id"]["vendor"], d["id"]["device"]) for d in pci[0]["devices"]}
    check((0x8086, 0x1237) in ids and (0x8086, 0x7113) in ids, "query-pci shows i440FX and PIIX4 PM")
    names = {c["label"] for c in q.ok("query-chardev")}
    check({"serial0", "compat_monitor0"} <= names, "query-chardev lists serial0 and the monitor")
    dump = os.path.join(workdir, "low.bin")
    q.ok("pmemsave", {"val": 0, "size": 4096, "filename": dump})
    check(os.path.getsize(dump) == 4096, "pmemsave wrote 4096 bytes")


def bad_input(q):
    q.send_raw(b'{"execute": "query-status"' + b"]\n")
    r = q.reply()
    check(r["error"]["class"] == "GenericError", "malformed JSON: GenericError")
    r = q.execute("no-such-command")
    check(r["error"]["class"] == "CommandNotFound", "unknown command: CommandNotFound")
    r = q.execute("pmemsave", {"val": "zero", "size": 1, "filename": "/dev/null"})
    check(r["error"]["class"] == "GenericError", "wrong argument type: GenericError")
    r = q.execute("query-status", {"bogus": 1})
    check(r["error"]["class"] == "GenericError", "unknown argument: GenericError")
    r = q.execute("query-status", id={"any": ["json", 1]})
    check(r.get("id") == {"any": ["json", 1]}, "id echoed verbatim")
    q.send_raw(b'{"execute": "' + b"x" * (1 << 20) + b'"}\n')
    r = q.reply()
    check("error" in r, "a 1 MiB line gets an error")
    check(q.ok("query-status")["running"], "still serving after bad input")


def churn(path, pid):
    before = open_fds(pid)
    for i in range(50):
        s = connect_unix(path, 10)
        s.recv(4096)  # greeting
        if i % 2:
            s.sendall(b'{"execute": "qmp_capab')  # leave mid-command
        s.close()
    time.sleep(1)
    q = Qmp(path)
    q.ok("qmp_capabilities")
    after = open_fds(pid)
    check(after <= before + 1, "50 clients came and went without leaking fds (%d -> %d)" % (before, after))
    return q


def powerdown(q, q2):
    q.ok("system_powerdown")
    q.wait_event("POWERDOWN", 10)
    e = q2.wait_event("SHUTDOWN", 120)
    check(e["data"] == {"guest": True, "reason": "guest-shutdown"}, "SHUTDOWN from the guest")
    check(set(e["timestamp"]) == {"seconds", "microseconds"}, "events carry timestamps")


def steps():
    sock, sock2, log, pidfile, workdir = sys.argv[1:6]
    q = Qmp(sock)
    negotiate(q)
    pid = read_pid(pidfile)
    q2 = Qmp(sock2)
    q2.ok("qmp_capabilities")
    prelaunch_then_cont(q, log)
    stop_and_cont(q, q2)
    queries(q, pid, workdir)
    bad_input(q)
    q2.close()
    q2 = churn(sock2, pid)
    powerdown(q, q2)


if __name__ == "__main__":
    sys.exit(main(steps))
