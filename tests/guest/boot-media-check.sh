# /scenario.sh of the initramfs on the firmware-boot media (bootmedia.py).
# The kernel and this initramfs came from a disk or a CD through SeaBIOS and
# EXTLINUX/ISOLINUX, without -kernel; ktest.medium= on the loader's command
# line says which. Linux's own drivers now read that medium back: mount its
# file system and check its files against its MD5SUMS.
medium=$(sed -n 's/.*ktest\.medium=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "KTEST-FIRMWARE-BOOT medium=$medium $(grep -o 'BOOT_IMAGE=[^ ]*' /proc/cmdline)"
# The first hard disk as int 13h showed it to Linux's setup code (EDD):
# the BIOS's logical geometry (function 08h) and size (function 48h).
if insmod /lib/edd.ko 2>/dev/null && [ -d /sys/firmware/edd/int13_dev80 ]; then
    e=/sys/firmware/edd/int13_dev80
    echo "EDD80=$(cat $e/legacy_max_cylinder)/$(cat $e/legacy_max_head)/$(cat $e/legacy_sectors_per_track) sectors=$(cat $e/sectors)"
fi
for m in ata_piix sd_mod sr_mod virtio_pci virtio_blk isofs ext4; do
    modprobe $m
done
if [ "$medium" = cd ]; then parts="sr0"; fs=iso9660; opts=ro
else parts="sda1 vda1"; fs=ext4; opts=ro; fi
dev=""
for i in $(seq 150); do
    for p in $parts; do [ -b /dev/$p ] && dev=$p; done
    [ -n "$dev" ] && break
    sleep 0.2
done
mkdir -p /medium
for i in $(seq 50); do
    [ -n "$dev" ] && mount -t $fs -o $opts /dev/$dev /medium 2>/dev/null && break
    sleep 0.2
done
grep -q ' /medium ' /proc/mounts || mount -t $fs -o $opts /dev/$dev /medium  # shows why not
echo "MEDIUM_DEV=$dev $(grep ' /medium ' /proc/mounts | cut -d' ' -f3)"
(cd /medium && md5sum -c MD5SUMS)
echo "MEDIUM_MD5=$?"
umount /medium
poweroff -f
