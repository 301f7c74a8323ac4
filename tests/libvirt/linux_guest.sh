# /scenario.sh of the libvirt Linux guest (linux_guest_test.py), run by
# tests/guest/l2-init.sh after KTEST-GUEST-START on every boot.
# It loads the drivers of the domain's devices, powers the guest off when
# the ACPI power button is pressed (what acpid or systemd-logind do on a
# distribution; `virsh shutdown` and `virsh reboot` press it), and then
# runs the lines the host types on the serial console (`virsh console`).
modprobe virtio_pci
modprobe virtio_blk
modprobe virtio_net
modprobe virtio_balloon
modprobe virtio_console
modprobe uhci_hcd
modprobe usbhid
( while :; do
      wait-power-button --ready || exit 1
      echo "KTEST-POWER-BUTTON-PRESSED"
      poweroff -f
  done ) &
for i in $(seq 100); do [ -e /sys/block/vda ] && break; sleep 0.2; done
echo "KTEST-LIBVIRT-READY"
# One line at a time, so the host sees each command's end marker.
while read -r line; do
    eval "$line"
done
