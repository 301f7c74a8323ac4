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
# wait-power-button [--ready]: blocks until the ACPI power button is pressed
# (QMP/HMP system_powerdown), so a host-side driver can tell a scenario
# script to go on. The event device is open before the ready marker.
cat > /bin/wait-power-button <<'SCRIPT'
#!/bin/sh
modprobe evdev 2>/dev/null
modprobe button 2>/dev/null
ev=""
for d in /sys/class/input/input*; do
    grep -q "Power Button" $d/name 2>/dev/null && ev=$(basename $(ls -d $d/event* | head -1))
done
[ -n "$ev" ] || { echo "KTEST-NO-POWER-BUTTON"; exit 1; }
exec 3</dev/input/$ev
[ "$1" = "--ready" ] && echo "KTEST-POWER-BUTTON-READY $ev"
dd of=/dev/null bs=4096 count=1 <&3 2>/dev/null
SCRIPT
chmod 755 /bin/wait-power-button
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
