#!/bin/sh
# /init of the L2 test guest's base initramfs. A scenario adds /scenario.sh
# (as a second cpio archive appended to this one); it runs after the start
# marker and normally ends the guest itself (poweroff -f / reboot -f).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
echo "KTEST-GUEST-START"
if [ -f /scenario.sh ]; then
    sh /scenario.sh
    echo "KTEST-SCRIPT-EXIT $?"
fi
echo "KTEST-POWEROFF"
poweroff -f
# Only reached if poweroff failed; returning from /init would panic.
echo o > /proc/sysrq-trigger
sleep 3600
