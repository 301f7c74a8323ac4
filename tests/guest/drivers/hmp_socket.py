"""HMP over a Unix socket: prompt, info commands, stop/cont, help, an
unknown command, log with a bad item, xp on guest memory, and quit.

usage: hmp_socket.py HMP_SOCKET SERIAL_LOG"""

import sys

from qmp import Hmp, check, main, wait_log


def steps():
    sock, log = sys.argv[1:3]
    h = Hmp(sock)
    check("monitor" in h.banner, "banner before the first prompt")
    wait_log(log, "KTEST-HMP-READY")
    check(h.command("info status").strip() == "VM status: running", "info status: running")
    check(h.command("info cpus").count("CPU #") == 1, "info cpus lists one vCPU")
    check("RIP=" in h.command("info registers"), "info registers shows RIP")
    check("Host bridge" in h.command("info pci"), "info pci shows the host bridge")
    check("kvm support: enabled" in h.command("info kvm"), "info kvm")
    h.command("stop")
    check(h.command("info status").strip() == "VM status: paused", "stop: paused")
    h.command("c")
    check(h.command("info status").strip() == "VM status: running", "c: running again")
    check("system_powerdown" in h.command("help"), "help lists system_powerdown")
    check("unknown command: 'frobnicate'" in h.command("frobnicate"), "unknown command text")
    lines = h.command("log frobnicate").splitlines()
    check(lines[:2] == ["Log items (comma separated):", "none            remove all logs"],
          "log with an unknown item lists the items as QEMU: %r" % lines[:2])
    check(h.command("log none").strip() == "", "log none: no output")
    out = h.command("xp /4xb 0x7c00")
    check(out.startswith("0000000000007c00:"), "xp prints the address column: %r" % out)
    h.sock.sendall(b"quit\r")


if __name__ == "__main__":
    sys.exit(main(steps))
