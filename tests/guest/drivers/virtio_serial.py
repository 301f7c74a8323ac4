"""The host end of the virtio-serial scenario: the guest agent's socket
and the virtconsole's, and QMP's VSERPORT_CHANGE events; then quit.

usage: virtio_serial.py WORKDIR SERIAL_LOG"""

import os
import sys

from qmp import Qmp, check, connect_unix, main, recv_line, wait_log


def read_line(sock):
    data = recv_line(sock)
    check(data.endswith(b"\n"), "the socket closed before a whole line came: %r" % data)
    return data.decode()


def port_change(q, port_id, timeout):
    """The next VSERPORT_CHANGE of `port_id` (the virtconsole has its own)."""
    while True:
        e = q.wait_event("VSERPORT_CHANGE", timeout)
        if e["data"].get("id") == port_id:
            return e


def steps():
    workdir, log = sys.argv[1:3]
    q = Qmp(os.path.join(workdir, "qmp.sock"))
    q.ok("qmp_capabilities")
    agent = connect_unix(os.path.join(workdir, "agent.sock"))
    console = connect_unix(os.path.join(workdir, "console.sock"))
    agent.settimeout(None)  # the scenario's (scaled) timeout bounds the wait for the guest
    console.settimeout(None)
    e = port_change(q, "channel0", 120)
    check(e["data"] == {"id": "channel0", "open": True}, "guest opened the agent port: %s" % e)
    line = read_line(agent)
    check(line == "HELLO-FROM-GUEST\n", "the guest's line on the agent socket: %r" % line)
    agent.sendall(b"HELLO-FROM-HOST\n")
    wait_log(log, "^GOT=HELLO-FROM-HOST$", 60)
    e = port_change(q, "channel0", 60)
    check(e["data"] == {"id": "channel0", "open": False}, "guest closed the agent port: %s" % e)
    line = read_line(console)
    check(line.strip() == "HVC-HELLO", "the guest's line on the console socket: %r" % line)
    wait_log(log, "KTEST-VSERIAL-DONE", 60)
    q.ok("quit")


if __name__ == "__main__":
    sys.exit(main(steps))
