#!/bin/sh
# /init of the nested test host (L1). Loads kvm_amd, mounts the outer root
# read-only (9p tag "host") and the results folder (9p tag "out"), puts the
# scratch ext4 disk on /tmp, chroots into the outer tree and runs the command
# file written by kvmhost.py. Its output goes to a file in the results
# folder (the outer side follows it), its exit status to .kvmhost/status.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
say() { echo "kvmhost-l1: $*"; }
die() { say "FATAL: $*"; poweroff -f; sleep 60; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "init"  # the host's boot watchdog waits for a first line (kvmhost.py)
while read -r mod; do
    [ -n "$mod" ] && { modprobe "$mod" || say "modprobe $mod failed"; }
done < /etc/boot-modules
[ -e /dev/kvm ] || die "no /dev/kvm after loading kvm_amd"

P9="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /host /out
mount -t 9p -o "$P9,cache=loose,ro" host /host || die "mounting host root"
mount -t 9p -o "$P9" out /out || die "mounting results folder"
CTL=/out/.kvmhost
. "$CTL/host.env" || die "no $CTL/host.env"

if [ -n "${KVMHOST_KEEP_TMP:-}" ]; then
    mkdir -p /outer-tmp-folder
    mount --bind "/host$KVMHOST_KEEP_TMP" /outer-tmp-folder || die "keeping $KVMHOST_KEEP_TMP"
fi
mount -t ext4 /dev/vda /host/tmp || die "mounting scratch disk on /tmp"
chmod 1777 /host/tmp
# /var/tmp writable as on any machine (QEMU and kestrel put -snapshot overlays there).
mkdir -p /host/tmp/.var-tmp && chmod 1777 /host/tmp/.var-tmp
mount --bind /host/tmp/.var-tmp /host/var/tmp || die "binding /var/tmp"
if [ -n "${KVMHOST_KEEP_TMP:-}" ]; then
    mkdir -p "/host$KVMHOST_KEEP_TMP"
    mount --bind /outer-tmp-folder "/host$KVMHOST_KEEP_TMP" || die "binding $KVMHOST_KEEP_TMP"
fi
mount -t tmpfs -o mode=755 tmpfs /host/run
for d in proc sys dev; do mount --bind /$d /host/$d; done
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mkdir -p "/host$KVMHOST_RESULTS" 2>/dev/null
mount --bind /out "/host$KVMHOST_RESULTS" || die "binding results folder"

# Loopback up, as on any booted machine: servers the tests bind to 127.0.0.1
# (slirp's hostfwd in a VMM, the drivers' peers) must not race to raise it.
ip link set lo up || say "lo stays down"

# An idle VM held open for L1's whole life keeps KVM's static keys from being
# patched as VMMs come and go (the outer TCG froze L1 on such a patch; see
# hold_kvm_keys.py).
chroot /host /usr/bin/python3 "$KVMHOST_RESULTS/.kvmhost/hold_kvm_keys.py" ||
    say "holding an idle VM failed"

say "running command"
chroot /host /bin/sh "$KVMHOST_RESULTS/.kvmhost/command.sh" \
    > "$CTL/output.log" 2>&1 < /dev/null
echo $? > "$CTL/status"
say "command exited"
sync
poweroff -f
