#!/usr/bin/env python3
"""Mode changes while VNC clients are connected (vga_vbe_guest.py on this
machine's /dev/kvm: Bochs VBE modes 640x480, 1280x800, 800x600 at 32 bpp,
each filled with a known pattern, the next one on a key press):

- after each mode change a client in the server's own pixel format and one
  in another (red in the low byte, which libvncserver must translate) both
  get the new size and exactly the guest's picture;
- a burst of mode changes (each as soon as the guest drew the last) while
  a client keeps asking for updates: kestrel stays up, the client's
  connection stays open, and a client's picture at the end is again exactly
  the guest's.

kestrel's VNC server serves the display's own picture buffer, replaced on
every mode change while client threads may be reading it; a client left
on a freed buffer crashes kestrel (the buffers are unmapped at once), one
left with a stale pixel format gets wrong colours.

usage: vnc_resize_test.py build/kestrel    Ends with "N passed, N failed".
"""
import os
import sys
import tempfile
import threading

import images
import vga_vbe_guest
from rfb import RfbClient, RfbError
from vmm import Failure, Results, Vmm, timeout_scale, wait_log

MODES = vga_vbe_guest.MODES
BURST = 6  # mode changes sent without waiting for the clients (two rounds of MODES)


def start(binary, work, name):
    kernel = vga_vbe_guest.write_image(work)
    sock = os.path.join(work, name + ".sock")
    vm = Vmm(binary, work, name, ["-m", "64", "-nodefaults", "-vga", "std", "-kernel", kernel,
                                  "-vnc", "unix:" + sock])
    wait_log(vm.serial, "VBE-%dx%d" % MODES[0], timeout=int(120 * timeout_scale()))
    return vm, sock


def next_mode(vm, shown):
    """Presses a key; waits until the guest drew the next mode (its marker
    printed `shown` + 1 times in all). Returns that mode."""
    vm.qmp.ok("send-key", {"keys": [{"type": "qcode", "data": "spc"}]})
    mode = MODES[shown % len(MODES)]
    wait_log(vm.serial, "VBE-", count=shown + 1, timeout=int(120 * timeout_scale()))
    return mode


def picture_of(client, mode, label):
    """The client's snapshot once it has the mode's size and picture."""
    want = images.Image(mode[0], mode[1], vga_vbe_guest.rgb(*mode))
    try:
        shot = client.snapshot_until(want, timeout=60 * timeout_scale())
    except RfbError as e:
        raise Failure("%s: %s" % (label, e))
    if (shot.width, shot.height) != mode:
        raise Failure("%s: %dx%d, not the guest's %dx%d" % ((label, shot.width, shot.height) + mode))
    if shot.rgb != want.rgb:
        bad = sum(1 for i in range(0, len(want.rgb), 3) if shot.rgb[i:i + 3] != want.rgb[i:i + 3])
        raise Failure("%s: %d of %d pixels differ from the guest's %dx%d picture"
                      % ((label, bad, mode[0] * mode[1]) + mode))


def clients_follow_modes(binary, work):
    vm, sock = start(binary, work, "modes")
    with vm:
        same, other = RfbClient(sock), RfbClient(sock, red_low=True)
        try:
            for shown in range(1, len(MODES) + 1):
                mode = MODES[shown - 1] if shown == 1 else next_mode(vm, shown - 1)
                picture_of(same, mode, "client in the server's format, mode %d" % shown)
                picture_of(other, mode, "client with red in the low byte, mode %d" % shown)
        finally:
            same.close()
            other.close()
        if vm.proc.poll() is not None:
            raise Failure("kestrel ended (status %s): %s" % (vm.proc.returncode, vm.stderr_text()[-500:]))


def burst_of_mode_changes(binary, work):
    vm, sock = start(binary, work, "burst")
    with vm:
        client = RfbClient(sock)
        errors = []
        stop = threading.Event()

        def keep_reading():  # a viewer: asks again after every update
            try:
                while not stop.is_set():
                    client.request(incremental=True)
                    client.read_update()
            except (RfbError, OSError) as e:
                if not stop.is_set():
                    errors.append(e)

        reader = threading.Thread(target=keep_reading)
        reader.start()
        try:
            for shown in range(1, BURST + 1):
                next_mode(vm, shown)
        finally:
            stop.set()
            client.sock.shutdown(2)
            reader.join(30)
            client.close()
        if vm.proc.poll() is not None:
            raise Failure("kestrel ended (status %s) during the mode changes" % vm.proc.returncode)
        if errors:
            raise Failure("the client lost its connection during the mode changes: %s" % errors[0])
        mode = MODES[BURST % len(MODES)]
        fresh = RfbClient(sock)
        try:
            picture_of(fresh, mode, "a client after %d mode changes" % BURST)
        finally:
            fresh.close()


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    results = Results()
    with tempfile.TemporaryDirectory(prefix="kestrel-vnc-resize-") as work:
        results.run("two clients (server's format and another) get every mode's picture exactly",
                    lambda: clients_follow_modes(binary, work))
        results.run("%d mode changes in a burst, a client reading all along: kestrel stays up, picture exact"
                    % BURST, lambda: burst_of_mode_changes(binary, work))
    return results.finish()


if __name__ == "__main__":
    raise SystemExit(main())
