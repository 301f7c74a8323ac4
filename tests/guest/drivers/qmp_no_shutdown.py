"""-no-shutdown as libvirt uses it: the guest powers off, kestrel stays with
status "shutdown" (SHUTDOWN then STOP), refuses cont until system_reset,
which brings the machine back in prelaunch; cont boots the guest again;
quit ends kestrel with SHUTDOWN {guest: false, reason: host-qmp-quit}.

usage: qmp_no_shutdown.py QMP_SOCKET SERIAL_LOG"""

import sys

from qmp import Qmp, check, main, wait_log


def steps():
    sock, log = sys.argv[1:3]
    q = Qmp(sock)
    q.ok("qmp_capabilities")
    q.ok("cont")
    e = q.wait_event("SHUTDOWN", 180)
    check(e["data"] == {"guest": True, "reason": "guest-shutdown"}, "guest poweroff: SHUTDOWN")
    q.wait_event("STOP", 10)
    s = q.ok("query-status")
    check(s == {"status": "shutdown", "singlestep": False, "running": False}, "status shutdown: %s" % s)
    r = q.execute("cont")
    check(r.get("error", {}).get("desc") == "Resetting the Virtual Machine is required",
          "cont refused until reset")
    q.ok("system_reset")
    e = q.wait_event("RESET", 10)
    check(e["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, "RESET from the host")
    check(q.ok("query-status")["status"] == "prelaunch", "after reset: prelaunch")
    q.ok("cont")
    wait_log(log, "KTEST-GUEST-START", 180, count=2)
    q.wait_event("SHUTDOWN", 180)
    q.ok("quit")
    e = q.wait_event("SHUTDOWN", 10)
    check(e["data"] == {"guest": False, "reason": "host-qmp-quit"}, "quit: SHUTDOWN host-qmp-quit")


if __name__ == "__main__":
    sys.exit(main(steps))
