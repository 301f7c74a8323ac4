#!/usr/bin/env python3
"""Bad command lines against the real kestrel binary.

Usage: run_cli_tests.py PATH/TO/kestrel

Every case must make kestrel exit with status 1 after printing exactly one
line on stderr, "<program>: <QEMU's message>", where <program> is the name
it was called by (kestrel, or qemu-system-x86_64 through a symlink), and
nothing on stdout. Every case also carries -pidfile, -serial file:, -D and
(where the case allows) -daemonize, and must leave no trace: no pid file,
no new or changed serial/log file, no daemon left running, and none of the
sockets or files its own chardevs name ("{work}" in a case stands for the
test's scratch directory). All errors here are found before KVM is opened,
so no /dev/kvm is needed.
"""
import concurrent.futures
import os
import queue
import struct
import subprocess
import sys
import tempfile
import time
import uuid

MISSING = "/nonexistent-kestrel-cli-test/bzImage"

# (name, arguments, expected message after "<program>: ", add -daemonize?)
CASES = [
    ("unknown option", ["-foo"], "-foo: invalid option", True),
    ("missing argument", ["-m"], "-m: requires an argument", True),
    ("bad memory size", ["-m", "foo"],
     "-m foo: Parameter 'size' expects a non-negative number below 2^64", True),
    ("inconsistent smp topology", ["-smp", "4,sockets=3"],
     "Invalid CPU topology: product of the hierarchy must match maxcpus: "
     "sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)", True),
    ("too many cpus", ["-smp", "300"],
     "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-7.2' is 255", True),
    ("unknown machine type", ["-M", "foo"], "unsupported machine type", True),
    ("tcg accelerator", ["-accel", "tcg"],
     "-accel tcg: accelerator 'tcg' is not supported (kestrel runs guests only with kvm)", True),
    ("unknown cpu model", ["-cpu", "foo"], "unable to find CPU model 'foo'", True),
    # The guestless none machine (libvirt's probe): no buses, one CPU, no -kernel.
    ("device on the none machine", ["-machine", "none", "-device", "isa-debug-exit"],
     "-device isa-debug-exit: No 'ISA' bus found for device 'isa-debug-exit'", True),
    ("virtio drive on the none machine", ["-M", "none", "-drive", "if=virtio,file=/dev/null,format=raw"],
     "-drive if=virtio,file=/dev/null,format=raw: No 'PCI' bus found for device 'virtio-blk-pci'", True),
    ("two cpus on the none machine", ["-M", "none", "-smp", "2"],
     "Invalid SMP CPUs 2. The max CPUs supported by machine 'none' is 1", True),
    ("tcg on the pc machine", ["-machine", "pc,accel=tcg"],
     "accelerator 'tcg' is not supported (kestrel runs guests only with kvm)", True),
    # A realize error after the UHCI's thread started (it aborted kestrel:
    # the controller went before its thread took its timer).
    ("taken usb port", ["-usb", "-device", "usb-tablet,port=3", "-monitor", "none"],
     "-device usb-tablet,port=3: usb port 3 (bus usb-bus.0) not found (in use?)", False),
    ("nographic with daemonize", ["-nographic"], "-nographic cannot be used with -daemonize", True),
    ("stdio serial with daemonize", ["-serial", "stdio"],
     "-serial stdio: cannot use stdio with -daemonize", True),
    ("missing kernel", ["-kernel", MISSING],
     "could not open kernel file '%s': No such file or directory" % MISSING, True),
    ("append without kernel", ["-append", "console=ttyS0"],
     "-append only allowed with -kernel option", True),
    ("bad uuid", ["-uuid", "1234"], "-uuid 1234: failed to parse UUID string: wrong format", True),
    ("unavailable display", ["-display", "gtk"], "Display 'gtk' is not available.", True),
    ("bad rtc base", ["-rtc", "base=yesterday"], "invalid datetime format", True),
    ("stdio used twice", ["-serial", "stdio", "-serial", "stdio"],
     "-serial stdio: cannot use stdio by multiple character devices", False),
    # Character devices and monitors: the serial ports above are COM1/COM2.
    ("unknown chardev backend", ["-chardev", "foo,id=x"],
     "-chardev foo,id=x: 'foo' is not a valid char driver name", True),
    ("chardev without id", ["-chardev", "null"], "-chardev null: chardev: no id specified", True),
    ("duplicate chardev id", ["-chardev", "null,id=a", "-chardev", "null,id=a"],
     "-chardev null,id=a: Duplicate ID 'a' for chardev", True),
    ("bad option on a socket chardev",
     ["-chardev", "socket,id=q,path={work}/q.sock,server=on,wait=off,foo=1"],
     "-chardev socket,id=q,path={work}/q.sock,server=on,wait=off,foo=1: Invalid parameter 'foo'",
     True, ["{work}/q.sock"]),
    ("socket chardev without port",
     ["-chardev", "file,id=f,path={work}/chardev.log", "-chardev", "socket,id=s,host=localhost"],
     "-chardev socket,id=s,host=localhost: chardev: socket: no port given", True,
     ["{work}/chardev.log"]),
    ("wait on a client socket", ["-chardev", "socket,id=s,path={work}/c.sock,wait=off"],
     "-chardev socket,id=s,path={work}/c.sock,wait=off: "
     "'wait' option is incompatible with socket in client connect mode", True, ["{work}/c.sock"]),
    ("bad udp port", ["-chardev", "udp,id=u,port=x"],
     "-chardev udp,id=u,port=x: address resolution failed for localhost:x: "
     "Servname not supported for ai_socktype", True),
    ("-mon on an unknown chardev",
     ["-qmp", "unix:{work}/qmp.sock,server=on,wait=off", "-chardev",
      "file,id=f,path={work}/chardev.log", "-mon", "chardev=zz"],
     '-mon chardev=zz: chardev "zz" not found', True, ["{work}/qmp.sock", "{work}/chardev.log"]),
    ("bad -mon mode",
     ["-chardev", "socket,id=m,path={work}/m.sock,server=on,wait=off", "-mon", "chardev=m,mode=foo"],
     "-mon chardev=m,mode=foo: Parameter 'mode' does not accept value 'foo'", True, ["{work}/m.sock"]),
    ("-mon without chardev", ["-mon", "mode=control"],
     "-mon mode=control: Parameter 'chardev' is missing", True),
    ("chardev used by two monitors",
     ["-chardev", "socket,id=a,path={work}/a.sock,server=on,wait=off", "-mon", "chardev=a",
      "-mon", "chardev=a,mode=control"],
     "-mon chardev=a,mode=control: Device 'a' is in use", True, ["{work}/a.sock"]),
    ("-qmp none", ["-qmp", "none"], "-qmp none: 'none' is not a valid char driver", True),
    ("bad boolean in -qmp", ["-qmp", "unix:{work}/q2.sock,server=maybe"],
     "-qmp unix:{work}/q2.sock,server=maybe: Parameter 'server' expects 'on' or 'off'", True,
     ["{work}/q2.sock"]),
    ("bad -monitor shorthand", ["-monitor", "tcp:localhost"],
     "-monitor tcp:localhost: parse error: tcp:localhost", True),
    ("-qmp-pretty on a missing chardev", ["-qmp-pretty", "chardev:zz"],
     '-qmp-pretty chardev:zz: chardev "zz" not found', True),
    ("stdio chardev with daemonize", ["-chardev", "stdio,id=s"],
     "-chardev stdio,id=s: cannot use stdio with -daemonize", True),
    ("monitor and serial on stdio",
     ["-qmp", "unix:{work}/q3.sock,server=on,wait=off", "-monitor", "stdio", "-serial", "mon:stdio"],
     "-serial mon:stdio: cannot use stdio by multiple character devices", False, ["{work}/q3.sock"]),
    ("serial on an unknown chardev", ["-serial", "chardev:zz"],
     "-serial chardev:zz: could not connect serial device to character backend 'chardev:zz'", True),
    # Disks: every error is found before any image is opened or created.
    ("vmdk drive", ["-drive", "file={work}/disk.img,format=vmdk,if=virtio"],
     "-drive file={work}/disk.img,format=vmdk,if=virtio: image format 'vmdk' is not supported "
     "by kestrel yet (format=raw and format=qcow2 are)", True, ["{work}/disk.img"]),
    ("qcow2 option on a raw drive", ["-drive", "file={work}/disk.img,format=raw,if=virtio,l2-cache-size=1M"],
     "-drive file={work}/disk.img,format=raw,if=virtio,l2-cache-size=1M: Block format 'raw' does not "
     "support the option 'l2-cache-size'", True, ["{work}/disk.img"]),
    ("drive on the default IDE interface, missing image", ["-drive", "file={work}/disk.img,format=raw"],
     "-drive file={work}/disk.img,format=raw: Could not open '{work}/disk.img': No such file or directory",
     True, ["{work}/disk.img"]),
    ("IDE index out of range", ["-drive", "file={work}/disk.img,format=raw,index=4"],
     "-drive file={work}/disk.img,format=raw,index=4: machine type does not support if=ide,bus=2,unit=0",
     True, ["{work}/disk.img"]),
    ("two drives on one IDE unit", ["-hda", "{work}/disk.img", "-hda", "{work}/disk.img"],
     "-hda {work}/disk.img: drive with bus=0, unit=0 (index=0) exists", True, ["{work}/disk.img"]),
    # -device ide-hd/ide-cd: QEMU 7.2's errors before any image is opened.
    ("ide-hd without a drive", ["-device", "ide-hd"], "-device ide-hd: No drive specified", True),
    ("ide-hd's drive not found", ["-device", "ide-hd,drive=nope"],
     "-device ide-hd,drive=nope: Property 'ide-hd.drive' can't find value 'nope'", True),
    ("ide-hd unit out of range", ["-drive", "if=none,id=d0,file={work}/disk.img,format=raw",
                                  "-device", "ide-hd,drive=d0,unit=2"],
     "-device ide-hd,drive=d0,unit=2: Can't create IDE unit 2, bus supports only 2 units", True,
     ["{work}/disk.img"]),
    ("ide-hd on a unit -hda holds", ["-hda", "{work}/disk.img", "-drive", "if=none,id=d0,file={work}/disk.img",
                                     "-device", "ide-hd,drive=d0,bus=ide.0,unit=0"],
     "-device ide-hd,drive=d0,bus=ide.0,unit=0: IDE unit 0 is in use", True, ["{work}/disk.img"]),
    ("a third ide-cd finds ide.1 full", ["-device", "ide-cd", "-device", "ide-cd", "-device", "ide-cd,id=c3"],
     "-device ide-cd,id=c3: IDE unit 1 is in use", True),
    ("ide-hd on a bus that does not exist", ["-device", "ide-cd,bus=ide.2"], "-device ide-cd,bus=ide.2: Bus 'ide.2' not found",
     True),
    ("ide-cd on the PCI bus", ["-device", "ide-cd,bus=pci.0"],
     "-device ide-cd,bus=pci.0: Device 'ide-cd' can't go on PCI bus", True),
    ("ide-hd on an empty drive", ["-drive", "if=none,id=d0", "-device", "ide-hd,drive=d0"],
     "-device ide-hd,drive=d0: Device needs media, but drive is empty", True),
    ("ide-hd on a read-only drive", ["-drive", "if=none,id=d0,file={work}/disk.img,format=raw,readonly=on",
                                     "-device", "ide-hd,drive=d0"],
     "-device ide-hd,drive=d0: Block node is read-only", True, ["{work}/disk.img"]),
    ("ide-hd on a drive -hda holds", ["-hda", "{work}/disk.img", "-device", "ide-hd,drive=ide0-hd0"],
     "-device ide-hd,drive=ide0-hd0: Drive 'ide0-hd0' is already in use because it has been automatically "
     "connected to another device (did you need 'if=none' in the drive options?)", True, ["{work}/disk.img"]),
    ("one drive for two ide-hd", ["-drive", "if=none,id=d0,file={work}/disk.img,format=raw",
                                  "-device", "ide-hd,drive=d0", "-device", "ide-hd,drive=d0"],
     "-device ide-hd,drive=d0: Drive 'd0' is already in use by another device", True, ["{work}/disk.img"]),
    ("ide-hd's wwn not a number", ["-device", "ide-cd,wwn=xyz"], "-device ide-cd,wwn=xyz: Parameter 'wwn' expects integer",
     True),
    ("ide-hd's unit negative", ["-device", "ide-cd,unit=-1"], "-device ide-cd,unit=-1: Parameter 'unit' expects uint32_t",
     True),
    ("BIOS not found", ["-bios", "{work}/bios.bin"], "could not load PC BIOS '{work}/bios.bin'", True,
     ["{work}/bios.bin"]),
    # Option ROMs (QEMU 7.2's texts; tests/firmware compares them with QEMU's run).
    ("romfile not found", ["-device", "e1000,romfile={work}/none.rom"],
     "-device e1000,romfile={work}/none.rom: failed to find romfile \"{work}/none.rom\"", True),
    ("romfile not found in -L", ["-L", "{work}", "-vga", "none", "-device", "VGA,romfile=none.rom"],
     "-device VGA,romfile=none.rom: failed to find romfile \"none.rom\"", True),
    ("romsize not a power of two", ["-device", "virtio-net-pci,romsize=3"],
     "-device virtio-net-pci,romsize=3: ROM size 3 is not a power of two", True),
    ("-option-rom without a file", ["-option-rom", "bootindex=1"],
     "-option-rom bootindex=1: Option ROM file is not specified", True),
    ("-option-rom bootindex not a number", ["-option-rom", "x.rom,bootindex=abc"],
     "-option-rom x.rom,bootindex=abc: Parameter 'bootindex' expects a number", True),
    ("-option-rom unknown parameter", ["-option-rom", "x.rom,foo=1"],
     "-option-rom x.rom,foo=1: Invalid parameter 'foo'", True),
    ("romfile larger than romsize", ["-device", "e1000,romsize=4096"],
     "-device e1000,romsize=4096: romfile \"efi-e1000.rom\" (249856 bytes) is too large for ROM size 4096", True),
    ("CD-ROM image missing", ["-cdrom", "{work}/cd.iso"],
     "-cdrom {work}/cd.iso: Could not open '{work}/cd.iso': No such file or directory", True, ["{work}/cd.iso"]),
    ("CD-ROM image is a directory", ["-cdrom", "{work}"],
     "-cdrom {work}: 'file' driver requires '{work}' to be a regular file", True),
    ("bad boot device", ["-boot", "order=x"], "Invalid boot device 'x'", True),
    ("boot device twice", ["-boot", "once=dd"], "Boot device 'd' was given twice", True),
    ("bad reboot timeout", ["-boot", "reboot-timeout=70000"],
     "reboot timeout is invalid,it should be a value between -1 and 65535", True),
    ("unknown drive interface", ["-drive", "file={work}/disk.img,if=foo"],
     "-drive file={work}/disk.img,if=foo: unsupported bus type 'foo'", True, ["{work}/disk.img"]),
    ("aio=native without O_DIRECT", ["-drive", "file={work}/disk.img,format=raw,if=virtio,aio=native"],
     "-drive file={work}/disk.img,format=raw,if=virtio,aio=native: aio=native was specified, but it "
     "requires cache.direct=on, which was not specified.", True, ["{work}/disk.img"]),
    ("unknown drive option", ["-drive", "file={work}/disk.img,format=raw,if=virtio,foo=1"],
     "-drive file={work}/disk.img,format=raw,if=virtio,foo=1: Block format 'raw' does not support "
     "the option 'foo'", True, ["{work}/disk.img"]),
    ("duplicate drive id",
     ["-drive", "file={work}/a.img,if=none,id=d", "-drive", "file={work}/b.img,if=none,id=d"],
     "-drive file={work}/b.img,if=none,id=d: Duplicate ID 'd' for drive", True,
     ["{work}/a.img", "{work}/b.img"]),
    ("device on an unknown drive",
     ["-drive", "file={work}/disk.img,format=raw,if=virtio", "-device", "virtio-blk-pci,drive=x"],
     "-device virtio-blk-pci,drive=x: Property 'virtio-blk-device.drive' can't find value 'x'", True,
     ["{work}/disk.img"]),
    # -blockdev: QEMU 7.2's texts for each syntax (dotted keys, JSON).
    ("blockdev without filename", ["-blockdev", "driver=file"],
     "-blockdev driver=file: Parameter 'filename' is missing", True),
    ("blockdev without driver", ["-blockdev", "node-name=f1,filename={work}/disk.img"],
     "-blockdev node-name=f1,filename={work}/disk.img: Parameter 'driver' is missing", True,
     ["{work}/disk.img"]),
    ("blockdev root without node-name",
     ["-blockdev", '{"driver":"qcow2","file":{"driver":"file","filename":"{work}/disk.img"}}'],
     '-blockdev {"driver":"qcow2","file":{"driver":"file","filename":"{work}/disk.img"}}: '
     "'node-name' must be specified for the root node", True, ["{work}/disk.img"]),
    ("blockdev file= naming no node", ["-blockdev", "driver=qcow2,node-name=n1,file=nope"],
     "-blockdev driver=qcow2,node-name=n1,file=nope: Cannot find device='nope' nor node-name='nope'", True),
    ("blockdev bad node-name", ["-blockdev", "driver=file,node-name=1a,filename={work}/disk.img"],
     "-blockdev driver=file,node-name=1a,filename={work}/disk.img: Invalid node-name: '1a'", True,
     ["{work}/disk.img"]),
    ("blockdev unknown driver", ["-blockdev", "driver=bogus,node-name=f1"],
     "-blockdev driver=bogus,node-name=f1: Parameter 'driver' does not accept value 'bogus'", True),
    ("blockdev unexpected nested key",
     ["-blockdev", "driver=qcow2,node-name=q,file.driver=file,file.filename={work}/disk.img,file.bogus=1"],
     "-blockdev driver=qcow2,node-name=q,file.driver=file,file.filename={work}/disk.img,file.bogus=1: "
     "Parameter 'file.bogus' is unexpected", True, ["{work}/disk.img"]),
    ("blockdev JSON string for a boolean",
     ["-blockdev", '{"driver":"file","node-name":"f1","filename":"{work}/disk.img","read-only":"on"}'],
     '-blockdev {"driver":"file","node-name":"f1","filename":"{work}/disk.img","read-only":"on"}: '
     "Invalid parameter type for 'read-only', expected: boolean", True, ["{work}/disk.img"]),
    ('JSON -device: string for a bool', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"virtio-balloon-pci","deflate-on-oom":"on"}'],
     '-device {"driver":"virtio-balloon-pci","deflate-on-oom":"on"}: Invalid parameter type for \'deflate-on-oom\', expected: boolean', True, ["{work}/disk.img"]),
    ('JSON -device: number for a bool', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"virtio-balloon-pci","deflate-on-oom":1}'],
     '-device {"driver":"virtio-balloon-pci","deflate-on-oom":1}: Invalid parameter type for \'deflate-on-oom\', expected: boolean', True, ["{work}/disk.img"]),
    ('JSON -device: string for an unsigned', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"VGA","vgamem_mb":"16"}'],
     '-device {"driver":"VGA","vgamem_mb":"16"}: Parameter \'vgamem_mb\' expects uint64', True, ["{work}/disk.img"]),
    ('JSON -device: bool for an unsigned', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"isa-serial","index":true}'],
     '-device {"driver":"isa-serial","index":true}: Parameter \'index\' expects uint64', True, ["{work}/disk.img"]),
    ('JSON -device: string for bootindex', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"virtio-blk-pci","drive":"d0","bootindex":"1"}'],
     '-device {"driver":"virtio-blk-pci","drive":"d0","bootindex":"1"}: Invalid parameter type for \'bootindex\', expected: integer', True, ["{work}/disk.img"]),
    ('JSON -device: float for bootindex', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"virtio-blk-pci","drive":"d0","bootindex":1.5}'],
     '-device {"driver":"virtio-blk-pci","drive":"d0","bootindex":1.5}: Invalid parameter type for \'bootindex\', expected: integer', True, ["{work}/disk.img"]),
    ('JSON -device: number for a drive', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"virtio-blk-pci","drive":5}'],
     '-device {"driver":"virtio-blk-pci","drive":5}: Invalid parameter type for \'drive\', expected: string', True, ["{work}/disk.img"]),
    ('JSON -device: number for a MAC', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"e1000","mac":5}'],
     '-device {"driver":"e1000","mac":5}: Invalid parameter type for \'mac\', expected: string', True, ["{work}/disk.img"]),
    ('JSON -device: bool for addr', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":"VGA","addr":true}'],
     '-device {"driver":"VGA","addr":true}: Invalid parameter type for \'addr\', expected int or str', True, ["{work}/disk.img"]),
    ('JSON -device: number for driver', ["-drive", "if=none,id=d0,file=/dev/null,format=raw,read-only=on", "-device", '{"driver":5}'],
     '-device {"driver":5}: Parameter \'driver\' is missing', True, ["{work}/disk.img"]),
    ("blockdev truncated JSON", ["-blockdev", '{"driver":"file","node-name":"f1",'],
     '-blockdev {"driver":"file","node-name":"f1",: JSON parse error, premature EOI', True),
    ("blockdev JSON with a second value", ["-blockdev", '{"driver":"file"} x'],
     '-blockdev {"driver":"file"} x: Expecting at most one JSON value', True),
    ("blockdev JSON unterminated string", ["-blockdev", '{"driver":"fi'],
     '-blockdev {"driver":"fi: JSON parse error, stray \'"fi\'', True),
    ("blockdev discard=on", ["-blockdev", "driver=file,node-name=f1,filename={work}/disk.img,discard=on"],
     "-blockdev driver=file,node-name=f1,filename={work}/disk.img,discard=on: Parameter 'discard' does "
     "not accept value 'on'", True, ["{work}/disk.img"]),
    ("blockdev aio=native without O_DIRECT",
     ["-blockdev", "driver=file,node-name=f1,filename={work}/disk.img,aio=native"],
     "-blockdev driver=file,node-name=f1,filename={work}/disk.img,aio=native: aio=native was specified, "
     "but it requires cache.direct=on, which was not specified.", True, ["{work}/disk.img"]),
    ("blockdev node name too long",
     ["-blockdev", "driver=file,node-name=abcdefghijabcdefghijabcdefghijab,filename={work}/disk.img"],
     "-blockdev driver=file,node-name=abcdefghijabcdefghijabcdefghijab,filename={work}/disk.img: "
     "Node name too long", True, ["{work}/disk.img"]),
    ("blockdev duplicate node-name",
     ["-blockdev", "driver=file,node-name=f1,filename={work}/a.img",
      "-blockdev", "driver=file,node-name=f1,filename={work}/b.img"],
     "-blockdev driver=file,node-name=f1,filename={work}/b.img: Duplicate nodes with node-name='f1'", True,
     ["{work}/a.img", "{work}/b.img"]),
    ("drive id taken by a blockdev node",
     ["-blockdev", "driver=file,node-name=f1,filename={work}/a.img", "-drive", "if=none,id=f1,file={work}/b.img"],
     "-drive if=none,id=f1,file={work}/b.img: Device name 'f1' conflicts with an existing node name", True,
     ["{work}/a.img", "{work}/b.img"]),
    ("device on an unknown blockdev node",
     ["-blockdev", "driver=file,node-name=f1,filename={work}/a.img", "-device", "virtio-blk-pci,drive=f2"],
     "-device virtio-blk-pci,drive=f2: Property 'virtio-blk-device.drive' can't find value 'f2'", True,
     ["{work}/a.img"]),
    ("unused blockdev with a missing file",
     ["-blockdev", "driver=file,node-name=f1,filename={work}/missing.img"],
     "-blockdev driver=file,node-name=f1,filename={work}/missing.img: Could not open '{work}/missing.img': "
     "No such file or directory", True, ["{work}/missing.img"]),
    ("drive used by two devices",
     ["-drive", "file={work}/disk.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
      "-device", "virtio-blk-pci,drive=d0"],
     "-device virtio-blk-pci,drive=d0: Drive 'd0' is already in use by another device", True,
     ["{work}/disk.img"]),
    ("device on an if=virtio drive",
     ["-drive", "file={work}/disk.img,format=raw,if=virtio,id=v", "-device", "virtio-blk-pci,drive=v"],
     "-drive file={work}/disk.img,format=raw,if=virtio,id=v: Drive 'v' is already in use because it "
     "has been automatically connected to another device (did you need 'if=none' in the drive "
     "options?)", True, ["{work}/disk.img"]),
    ("unknown iothread",
     ["-drive", "file={work}/disk.img,format=raw,if=none,id=d0", "-device",
      "virtio-blk-pci,drive=d0,iothread=io9"],
     "-device virtio-blk-pci,drive=d0,iothread=io9: Device 'io9' not found", True, ["{work}/disk.img"]),
    ("PCI slot taken",
     ["-drive", "file={work}/a.img,format=raw,if=none,id=d0", "-drive",
      "file={work}/b.img,format=raw,if=none,id=d1", "-device", "virtio-blk-pci,drive=d0,addr=4",
      "-device", "virtio-blk-pci,drive=d1,id=b,addr=4"],
     "-device virtio-blk-pci,drive=d1,id=b,addr=4: PCI: slot 4 function 0 not available for "
     "virtio-blk-pci, in use by virtio-blk-pci,id=(null)", True, ["{work}/a.img", "{work}/b.img"]),
    ("PCI slot of the default e1000",
     ["-drive", "file={work}/a.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,addr=3"],
     "-device virtio-blk-pci,drive=d0,addr=3: PCI: slot 3 function 0 not available for "
     "virtio-blk-pci, in use by e1000,id=(null)", True, ["{work}/a.img"]),
    ("malformed PCI address",
     ["-drive", "file={work}/disk.img,format=raw,if=none,id=d0", "-device",
      "virtio-blk-pci,drive=d0,addr=3.8"],
     "-device virtio-blk-pci,drive=d0,addr=3.8: Property 'virtio-blk-pci.addr' doesn't take value "
     "'3.8'", True, ["{work}/disk.img"]),
    ("duplicate device id",
     ["-drive", "file={work}/disk.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,id=a",
      "-device", "virtio-blk-pci,drive=d0,id=a"],
     "-device virtio-blk-pci,drive=d0,id=a: Duplicate ID 'a' for device", True, ["{work}/disk.img"]),
    # QEMU's properties kestrel lacks: a device's own, the virtio-pci transport's, every PCI device's;
    # one QEMU lacks stays "not found".
    ("virtio-net property kestrel lacks", ["-device", "virtio-net-pci,rss=on"],
     "-device virtio-net-pci,rss=on: Property 'virtio-net-pci.rss' is not supported by kestrel yet", True),
    ("virtio transport property kestrel lacks", ["-device", "virtio-rng-pci,packed=on"],
     "-device virtio-rng-pci,packed=on: Property 'virtio-rng-pci.packed' is not supported by kestrel yet", True),
    ("PCI property kestrel lacks", ["-device", "VGA,acpi-index=1"],
     "-device VGA,acpi-index=1: Property 'VGA.acpi-index' is not supported by kestrel yet", True),
    ("virtio property QEMU lacks too", ["-device", "virtio-balloon-pci,ioeventfd=on"],
     "-device virtio-balloon-pci,ioeventfd=on: Property 'virtio-balloon-pci.ioeventfd' not found", True),
    ("virtio-rng with an unknown rng backend", ["-device", "virtio-rng-pci,rng=nope"],
     "-device virtio-rng-pci,rng=nope: Device 'nope' not found", True),
    ("virtio-rng's rng= naming an iothread", ["-object", "iothread,id=io", "-device", "virtio-rng,rng=io"],
     "-device virtio-rng,rng=io: Invalid parameter type for 'rng', expected: rng-backend", True),
    ("virtio-rng period of zero", ["-device", "virtio-rng-pci,period=0"],
     "-device virtio-rng-pci,period=0: 'period' parameter expects a positive integer", True),
    ("virtio-rng max-bytes of 2^63", ["-device", "virtio-rng-pci,max-bytes=9223372036854775808"],
     "-device virtio-rng-pci,max-bytes=9223372036854775808: 'max-bytes' parameter must be non-negative, "
     "and less than 2^63", True),
    ("rng-random on a missing file", ["-object", "rng-random,id=r,filename=/nonexistent-kestrel-cli-test/rng"],
     "Could not open '/nonexistent-kestrel-cli-test/rng': No such file or directory", True),
    ("rng-egd", ["-object", "rng-egd,id=r,chardev=c"],
     "-object rng-egd,id=r,chardev=c: object type 'rng-egd' is not supported by kestrel yet", True),
    ("two balloons", ["-device", "virtio-balloon-pci", "-device", "virtio-balloon,id=b2"],
     "-device virtio-balloon,id=b2: Only one balloon device is supported", True),
    ("negative balloon polling interval", ["-device", "virtio-balloon-pci,guest-stats-polling-interval=-3"],
     "-device virtio-balloon-pci,guest-stats-polling-interval=-3: timer value must be greater than zero", True),
    ("balloon statistics are read-only", ["-device", "virtio-balloon-pci,guest-stats=1"],
     "-device virtio-balloon-pci,guest-stats=1: Property 'virtio-balloon-device.guest-stats' is not writable",
     True),
    ("unknown device", ["-device", "foo"], "-device foo: 'foo' is not a valid device model name", True),
    ("unknown object type", ["-object", "foo,id=x"],
     "-object foo,id=x: Parameter 'qom-type' does not accept value 'foo'", True),
    ("iothread without id", ["-object", "iothread"], "-object iothread: Parameter 'id' is missing", True),
    # Networks. The taps need root; "lo" cannot be one, and stdin (0) is /dev/null here.
    # Backends open after KVM (-S: no kernel needed), before any other side effect.
    ("netdev without id", ["-netdev", "tap"], "-netdev tap: Parameter 'id' is missing", True),
    ("netdev of unknown type", ["-netdev", "foo,id=n0"], "-netdev foo,id=n0: Parameter 'type' does not accept value 'foo'",
     True),
    ("netdev type kestrel lacks", ["-netdev", "socket,id=n0"],
     "-netdev socket,id=n0: netdev type 'socket' is not supported by kestrel yet", True),
    ("duplicate netdev id", ["-netdev", "tap,id=n0,script=no", "-netdev", "tap,id=n0"],
     "-netdev tap,id=n0: Duplicate ID 'n0' for netdev", True),
    ("unknown tap option", ["-netdev", "tap,id=n0,bogus=1"], "-netdev tap,id=n0,bogus=1: Invalid parameter 'bogus'",
     True),
    ("vhostfd with vhost=off", ["-netdev", "tap,id=n0,ifname=kcli0,script=no,vhostfd=0,vhost=off"],
     "-netdev tap,id=n0,ifname=kcli0,script=no,vhostfd=0,vhost=off: vhostfd(s)= is not valid without vhost", True),
    ("fds with queues", ["-netdev", "tap,id=n0,fds=0:1,queues=3"],
     "-netdev tap,id=n0,fds=0:1,queues=3: ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, and "
     "vhostfd= are invalid with fds=", True),
    ("fds and vhostfds of different counts", ["-netdev", "tap,id=n0,fds=0:1,vhostfds=2"],
     "-netdev tap,id=n0,fds=0:1,vhostfds=2: The number of fds passed does not match the number of vhostfds "
     "passed", True),
    ("closed tap fd", ["-netdev", "tap,id=n0,fd=987"],
     "-netdev tap,id=n0,fd=987: n0: Can't use file descriptor 987: Bad file descriptor", True),
    ("fd that is no tap", ["-S", "-netdev", "tap,id=n0,fd=0"],
     "-netdev tap,id=n0,fd=0: Unable to query TUNGETIFF on FD 0: Inappropriate ioctl for device", True),
    ("tap that cannot be opened", ["-S", "-netdev", "tap,id=n0,ifname=lo,script=no,downscript=no"],
     "-netdev tap,id=n0,ifname=lo,script=no,downscript=no: could not configure /dev/net/tun (lo): Invalid argument",
     True),
    ("unknown netdev for a NIC", ["-device", "virtio-net-pci,netdev=nope"],
     "-device virtio-net-pci,netdev=nope: Property 'virtio-net-device.netdev' can't find value 'nope'", True),
    ("netdev used twice", ["-netdev", "tap,id=n0,script=no", "-device", "virtio-net-pci,netdev=n0", "-device",
                           "virtio-net-pci,netdev=n0"],
     "-device virtio-net-pci,netdev=n0: Property 'virtio-net-device.netdev' can't take value 'n0', it's in use",
     True),
    ("bad NIC mac", ["-device", "virtio-net-pci,mac=zz"],
     "-device virtio-net-pci,mac=zz: Property 'virtio-net-device.mac' doesn't take value 'zz'", True),
    ("-net nic on an unknown netdev", ["-net", "nic,model=virtio,netdev=x"],
     "-net nic,model=virtio,netdev=x: netdev 'x' not found", True),
    ("unknown NIC model", ["-nic", "tap,ifname=kcli1,script=no,model=foo"], "Unsupported NIC model: foo", True),
    ("bad -nic mac", ["-nic", "tap,script=no,mac=zz"], "-nic tap,script=no,mac=zz: invalid syntax for ethernet address",
     True),
    # -netdev user (libslirp): QEMU 7.2's texts for the same command lines.
    ("hostfwd of an unknown protocol", ["-netdev", "user,id=n0,hostfwd=foo::1-:2"],
     "-netdev user,id=n0,hostfwd=foo::1-:2: Invalid host forwarding rule 'foo::1-:2' (Bad protocol name)", True),
    ("hostfwd host port out of range", ["-nic", "user,hostfwd=tcp::99999-:22"],
     "-nic user,hostfwd=tcp::99999-:22: Invalid host forwarding rule 'tcp::99999-:22' (Bad host port)", True),
    ("hostfwd guest port 0", ["-net", "user,hostfwd=tcp::1-:0"],
     "-net user,hostfwd=tcp::1-:0: Invalid host forwarding rule 'tcp::1-:0' (Bad guest port)", True),
    ("hostfwd without a port separator", ["-netdev", "user,id=n0,hostfwd=tcp::1"],
     "-netdev user,id=n0,hostfwd=tcp::1: Invalid host forwarding rule 'tcp::1' (Bad host port separator)", True),
    ("hostfwd to a bad guest address", ["-netdev", "user,id=n0,hostfwd=tcp::1-x:2"],
     "-netdev user,id=n0,hostfwd=tcp::1-x:2: Invalid host forwarding rule 'tcp::1-x:2' (Bad guest address)", True),
    ("two hostfwd rules on one port", ["-S", "-nic", "user,hostfwd=tcp::47123-:22,hostfwd=tcp::47123-:23"],
     "-nic user,hostfwd=tcp::47123-:22,hostfwd=tcp::47123-:23: Could not set up host forwarding rule "
     "'tcp::47123-:22'", True),
    ("bad guestfwd", ["-netdev", "user,id=n0,guestfwd=bad"],
     "-netdev user,id=n0,guestfwd=bad: Invalid guest forwarding rule 'bad'", True),
    ("user net netmask out of range", ["-netdev", "user,id=n0,net=10.0.0.0/3"],
     "-netdev user,id=n0,net=10.0.0.0/3: Invalid netmask provided (must be in range 4-32)", True),
    ("user net unparsable network", ["-netdev", "user,id=n0,net=foo"],
     "-netdev user,id=n0,net=foo: Failed to parse netmask", True),
    ("user net host outside the network", ["-netdev", "user,id=n0,host=10.0.3.2"],
     "-netdev user,id=n0,host=10.0.3.2: Host doesn't belong to network", True),
    ("user net DNS on the host address", ["-netdev", "user,id=n0,dns=10.0.2.2"],
     "-netdev user,id=n0,dns=10.0.2.2: DNS must be different from host", True),
    ("restricted user net with an outside DNS", ["-netdev", "user,id=n0,restrict=on,dns=8.8.8.8"],
     "-netdev user,id=n0,restrict=on,dns=8.8.8.8: DNS doesn't belong to network", True),
    ("user net DHCP start on the DNS address", ["-netdev", "user,id=n0,dhcpstart=10.0.2.3"],
     "-netdev user,id=n0,dhcpstart=10.0.2.3: DHCP must be different from host and DNS", True),
    ("user net without IPv4 and IPv6", ["-netdev", "user,id=n0,ipv4=off,ipv6=off"],
     "-netdev user,id=n0,ipv4=off,ipv6=off: IPv4 and IPv6 disabled", True),
    ("user net IPv4 off with a network", ["-netdev", "user,id=n0,ipv4=off,net=10.0.0.0/8"],
     "-netdev user,id=n0,ipv4=off,net=10.0.0.0/8: IPv4 disabled but netmask/host/dns provided", True),
    ("user net restrict not on or off", ["-netdev", "user,id=n0,restrict=maybe"],
     "-netdev user,id=n0,restrict=maybe: Parameter 'restrict' expects 'on' or 'off'", True),
    ("user net IPv6 prefix too long", ["-netdev", "user,id=n0,ipv6-net=fec0::/200"],
     "-netdev user,id=n0,ipv6-net=fec0::/200: Invalid IPv6 prefix provided (IPv6 prefix length must be between 0 "
     "and 126)", True),
    ("user net IPv6 prefix length not a number", ["-netdev", "user,id=n0,ipv6-prefixlen=abc"],
     "-netdev user,id=n0,ipv6-prefixlen=abc: Parameter 'ipv6-prefixlen' expects an int64 value", True),
    ("user net IPv6 host outside the prefix", ["-netdev", "user,id=n0,ipv6-host=fed0::2"],
     "-netdev user,id=n0,ipv6-host=fed0::2: IPv6 Host doesn't belong to network", True),
    ("user net empty domain name", ["-netdev", "user,id=n0,domainname="],
     "-netdev user,id=n0,domainname=: 'domainname' parameter cannot be empty", True),
    ("user net unknown parameter", ["-netdev", "user,id=n0,bogus=1"],
     "-netdev user,id=n0,bogus=1: Invalid parameter 'bogus'", True),
    ("user net smb share", ["-netdev", "user,id=n0,smb={work}"],
     "-netdev user,id=n0,smb={work}: smb= is not supported by kestrel: it runs no SMB server (share files with "
     "hostfwd= or tftp= instead)", True),
    ("unknown model for -nic user", ["-nic", "user,model=foo"], "Unsupported NIC model: foo", True),
    ("duplicate iothread", ["-object", "iothread,id=io1", "-object", "iothread,id=io1"],
     "-object iothread,id=io1: Duplicate ID 'io1' for object", True),
    # libvirt's domain command line: -object secret / memory-backend-*, -machine memory-backend=,
    # -overcommit, -msg, -audiodev, -chardev socket,fd= (checked by QEMU 7.2 with the same command lines).
    ("secret without data or file", ["-object", "secret,id=s0"], "Either 'file' or 'data' must be provided", True),
    ("secret with data and file", ["-object", "secret,id=s0,data=x,file={work}/none"],
     "'file' and 'data' are mutually exclusive", True),
    ("secret with bad base64", ["-object", "secret,id=s0,data=@@,format=base64"],
     "Base64 data contains invalid characters", True),
    ("secret with unknown format", ["-object", "secret,id=s0,data=x,format=hex"],
     "-object secret,id=s0,data=x,format=hex: Parameter 'format' does not accept value 'hex'", True),
    ("secret from a missing file", ["-object", "secret,id=s0,file={work}/none"],
     "Unable to read {work}/none: Failed to open file “{work}/none”: No such file or directory", True),
    ("secret from a directory", ["-object", "secret,id=s0,file={work}"],
     "Unable to read {work}: Error reading file “{work}”: Is a directory", True),
    ("secret with unknown key", ["-object", "secret,id=s0,data=x,keyid=nokey"], "No secret with id 'nokey'", True),
    ("secret key of the wrong size", ["-object", "secret,id=k,data=short", "-object",
                                      "secret,id=s0,data=x,keyid=k,iv=AAAAAAAAAAAAAAAAAAAAAA=="],
     "Key should be 32 bytes in length", True),
    ("secret JSON with a number for data", ["-object", '{"qom-type":"secret","id":"s0","data":5}'],
     '-object {"qom-type":"secret","id":"s0","data":5}: Invalid parameter type for \'data\', expected: string', True),
    ("secret JSON with an unknown member", ["-object", '{"qom-type":"secret","id":"s","data":"x","bogus":1}'],
     '-object {"qom-type":"secret","id":"s","data":"x","bogus":1}: Parameter \'bogus\' is unexpected', True),
    ("memory backend without size", ["-object", "memory-backend-ram,id=m"],
     "-object memory-backend-ram,id=m: Parameter 'size' is missing", True),
    ("memory backend of size 0", ["-object", "memory-backend-ram,id=m,size=0"],
     "property 'size' of memory-backend-ram doesn't take value '0'", True),
    ("memory backend with prealloc=on and reserve=off", ["-object", "memory-backend-ram,id=m,size=1M,reserve=off,prealloc=on"],
     "'prealloc=on' and 'reserve=off' are incompatible", True),
    ("memory backend JSON size as a string", ["-object", '{"qom-type":"memory-backend-ram","id":"m","size":"1M"}'],
     '-object {"qom-type":"memory-backend-ram","id":"m","size":"1M"}: Parameter \'size\' expects uint64', True),
    ("memory backend file without mem-path", ["-object", "memory-backend-file,id=m,size=1M"],
     "-object memory-backend-file,id=m,size=1M: Parameter 'mem-path' is missing", True),
    ("memory backend file with a bad align, nothing created",
     ["-object", "memory-backend-file,id=m,size=1M,mem-path={work}/ram,align=5"],
     "alignment 0x5 must be multiples of page size 0x1000", True, ["{work}/ram"]),
    ("machine memory-backend not found", ["-machine", "memory-backend=m"], "Memory backend 'm' not found", True),
    ("machine memory-backend of another size", ["-machine", "memory-backend=m", "-object",
                                                "memory-backend-ram,id=m,size=64M", "-m", "128"],
     "Machine memory size does not match the size of the memory backend", True),
    ("memory backend named pc.ram", ["-object", "memory-backend-ram,id=pc.ram,size=128M"],
     "object name 'pc.ram' is reserved for the default RAM backend, it can't be used for any other purposes. "
     "Change the object's 'id' to something else", True),
    ("object ids are one namespace", ["-object", "iothread,id=m", "-object", "memory-backend-ram,id=m,size=1M"],
     "-object memory-backend-ram,id=m,size=1M: Duplicate ID 'm' for object", True),
    ("overcommit not on or off", ["-overcommit", "mem-lock=x"],
     "-overcommit mem-lock=x: Parameter 'mem-lock' expects 'on' or 'off'", True),
    ("overcommit unknown parameter", ["-overcommit", "foo=on"], "-overcommit foo=on: Invalid parameter 'foo'", True),
    ("msg timestamp not on or off", ["-msg", "timestamp=x"],
     "-msg timestamp=x: Parameter 'timestamp' expects 'on' or 'off'", True),
    ("audiodev without id", ["-audiodev", "none"], "-audiodev none: Parameter 'id' is missing", True),
    # -netdev in JSON, as libvirt writes it (QEMU 7.2's messages).
    ("netdev JSON without id", ["-netdev", '{"type":"user"}'], '-netdev {"type":"user"}: Parameter \'id\' is missing',
     True),
    ("netdev JSON unknown type", ["-netdev", '{"type":"foo","id":"n"}'],
     '-netdev {"type":"foo","id":"n"}: Parameter \'type\' does not accept value \'foo\'', True),
    ("vnc audiodev not defined", ["-vnc", "127.0.0.1:55,audiodev=zz"],
     "-vnc 127.0.0.1:55,audiodev=zz: Audiodev 'zz' not found", True),
    ("audiodev unknown driver", ["-audiodev", "foo,id=a"],
     "-audiodev foo,id=a: Parameter 'driver' does not accept value 'foo'", True),
    ("audiodev unknown parameter", ["-audiodev", "none,id=a,bogus=1"],
     "-audiodev none,id=a,bogus=1: Parameter 'bogus' is unexpected", True),
    ("audiodev negative frequency", ["-audiodev", "none,id=a,out.frequency=-1"],
     "-audiodev none,id=a,out.frequency=-1: Parameter 'frequency' expects uint32_t", True),
    ("audiodev JSON boolean as a number", ["-audiodev", '{"id":"a","driver":"none","out":{"mixing-engine":1}}'],
     '-audiodev {"id":"a","driver":"none","out":{"mixing-engine":1}}: Invalid parameter type for '
     "'out.mixing-engine', expected: boolean", True),
    ("chardev socket fd not a number", ["-chardev", "socket,id=c,fd=x,server=on,wait=off"],
     "-chardev socket,id=c,fd=x,server=on,wait=off: Unable to parse FD number x", True),
    ("chardev socket fd not open", ["-chardev", "socket,id=c,fd=99,server=on,wait=off"],
     "-chardev socket,id=c,fd=99,server=on,wait=off: File descriptor '99' is not a socket", True),
    # -add-fd (QEMU 7.2's messages; fd 99 is not open in the test's child).
    ("-add-fd of a standard stream", ["-add-fd", "fd=1,set=2"], "-add-fd fd=1,set=2: fd cannot be a standard I/O stream",
     True),
    ("-add-fd of an fd that is not open", ["-add-fd", "fd=99,set=2"],
     "-add-fd fd=99,set=2: fd is not valid or already in use", True),
    ("-add-fd without fd", ["-add-fd", "set=3"], "-add-fd set=3: fd option is required and must be non-negative", True),
    ("-add-fd of a negative fd", ["-add-fd", "fd=-1,set=1"],
     "-add-fd fd=-1,set=1: fd option is required and must be non-negative", True),
    ("-add-fd fd not a number", ["-add-fd", "fd=abc,set=1"], "-add-fd fd=abc,set=1: Parameter 'fd' expects a number",
     True),
    ("-add-fd unknown parameter", ["-add-fd", "fd=5,set=1,bogus=1"],
     "-add-fd fd=5,set=1,bogus=1: Invalid parameter 'bogus'", True),
    # -sandbox, -runas (checked by QEMU 7.2 with the same command lines).
    ("sandbox not on or off", ["-sandbox", "x"], "-sandbox x: Parameter 'enable' expects 'on' or 'off'", True),
    ("sandbox unknown parameter", ["-sandbox", "on,foo=1"], "-sandbox on,foo=1: Invalid parameter 'foo'", True),
    ("sandbox bad obsolete", ["-sandbox", "on,obsolete=x"], "-sandbox on,obsolete=x: invalid argument for obsolete",
     True),
    ("sandbox bad elevateprivileges", ["-sandbox", "on,elevateprivileges=x"],
     "-sandbox on,elevateprivileges=x: invalid argument for elevateprivileges", True),
    ("sandbox bad spawn, last value wins", ["-sandbox", "on,spawn=deny,spawn=x"],
     "-sandbox on,spawn=deny,spawn=x: invalid argument for spawn", True),
    ("sandbox bad resourcecontrol in a second -sandbox", ["-sandbox", "on", "-sandbox", "on,resourcecontrol=x"],
     "-sandbox on,resourcecontrol=x: invalid argument for resourcecontrol", True),
    ("sandbox values checked after -append", ["-sandbox", "on,spawn=x", "-append", "x"],
     "-append only allowed with -kernel option", True),
    ("sandbox values checked before -d", ["-sandbox", "on,spawn=x", "-d", "foo"],
     "-sandbox on,spawn=x: invalid argument for spawn", True),
    ("runas unknown user", ["-runas", "no-such-user-kestrel"],
     '-runas no-such-user-kestrel: User "no-such-user-kestrel" doesn\'t exist (and is not <uid>:<gid>)', True),
    ("runas uid without gid", ["-runas", "1000:"], '-runas 1000:: User "1000:" doesn\'t exist (and is not <uid>:<gid>)',
     True),
    ("runas uid out of range", ["-runas", "4294967295:1"],
     '-runas 4294967295:1: User "4294967295:1" doesn\'t exist (and is not <uid>:<gid>)', True),
    # Test devices, fw_cfg and -action.
    ("-fw_cfg without contents", ["-fw_cfg", "name=opt/a"],
     "-fw_cfg name=opt/a: name, plus exactly one of file, string and gen_id, are needed", True),
    ("-fw_cfg of a missing file", ["-fw_cfg", "opt/a,file={work}/none"],
     "-fw_cfg opt/a,file={work}/none: can't load {work}/none: Failed to open file “{work}/none”: No such "
     "file or directory", True),
    ("bad -action", ["-action", "panic=foo"], "-action panic=foo: Parameter 'panic' does not accept value 'foo'", True),
    ("two pvpanic devices", ["-device", "pvpanic", "-device", "pvpanic"],
     "-device pvpanic: duplicate fw_cfg file name: etc/pvpanic-port", True),
    ("unsupported lost tick policy", ["-global", "kvm-pit.lost_tick_policy=slew"],
     "Lost tick policy not supported.", True),
    # libvirt's <pm><suspend-to-mem enabled='yes'/>: kestrel's ACPI tables have no S3/S4.
    ("PIIX4_PM with S3 asked for", ["-global", "PIIX4_PM.disable_s3=0"],
     "PIIX4_PM.disable_s3=0: kestrel has no ACPI S3 sleep state (only 1 is supported)", True),
    ("PIIX4_PM with S4 asked for", ["-global", "PIIX4_PM.disable_s4=0"],
     "PIIX4_PM.disable_s4=0: kestrel has no ACPI S4 sleep state (only 1 is supported)", True),
    ("bad -debugcon backend", ["-debugcon", "foo:bar"], "-debugcon foo:bar: 'foo:bar' is not a valid char driver",
     True),
    # -smbios: QEMU 7.2's messages (checked against qemu-system-x86_64 7.2.22).
    ("-smbios of an unknown type", ["-smbios", "type=99"],
     "-smbios type=99: Don't know how to build fields for SMBIOS type 99", True),
    ("-smbios type out of range", ["-smbios", "type=200"], "-smbios type=200: out of range!", True),
    ("-smbios without type or file", ["-smbios", "foo=bar"], "-smbios foo=bar: Must specify type= or file=", True),
    ("-smbios unknown key", ["-smbios", "type=1,foo=bar"], "-smbios type=1,foo=bar: Invalid parameter 'foo'", True),
    ("-smbios bad uuid", ["-smbios", "type=1,uuid=xyz"], "-smbios type=1,uuid=xyz: Invalid UUID", True),
    ("-smbios bad release", ["-smbios", "type=0,release=abc"], "-smbios type=0,release=abc: Invalid release", True),
    ("-smbios CPU speed too large", ["-smbios", "type=4,max-speed=70000"],
     "-smbios type=4,max-speed=70000: SMBIOS CPU speed is too large (> 65535)", True),
    ("-smbios speed not a number", ["-smbios", "type=17,speed=abc"],
     "-smbios type=17,speed=abc: Parameter 'speed' expects a number", True),
    ("-smbios missing file", ["-smbios", "file={work}/none"], "-smbios file={work}/none: Cannot read SMBIOS file {work}/none",
     True),
    ("-smbios type 11 missing path", ["-smbios", "type=11,path={work}/none"],
     "-smbios type=11,path={work}/none: Could not open '{work}/none': No such file or directory", True),
    ("-smbios type 41 unknown kind", ["-smbios", "type=41,kind=foo"],
     "-smbios type=41,kind=foo: invalid parameter value: foo", True),
    ("bad smbios-entry-point-type", ["-machine", "smbios-entry-point-type=16"],
     "Parameter 'smbios-entry-point-type' does not accept value '16'", True),
    # Kernels kestrel cannot boot (made by make_kernels): refused before any side effect.
    ("multiboot header with a bad checksum", ["-kernel", "{work}/bad-checksum.bin"], "invalid kernel header", True),
    ("kernel of an unknown format", ["-kernel", "{work}/unknown.bin"],
     "could not load kernel '{work}/unknown.bin': not a Linux bzImage, a multiboot kernel or an ELF kernel "
     "with a PVH entry note", True),
    ("truncated ELF kernel", ["-kernel", "{work}/truncated.elf"], "Error while loading elf kernel", True),
    ("64-bit ELF without a PVH note", ["-kernel", "{work}/nonote64.elf"],
     "Error loading uncompressed kernel without PVH ELF Note", True),
    ("64-bit multiboot ELF", ["-kernel", "{work}/mb64.elf"], "Cannot load x86-64 image, give a 32bit one.", True),
    ("missing multiboot module", ["-kernel", "{work}/mb.bin", "-initrd", "{work}/none.mod arg"],
     "Failed to open file '{work}/none.mod'", True),
    ("multiboot modules larger than RAM", ["-m", "128", "-kernel", "{work}/mb.bin", "-initrd", "{work}/big.mod"],
     "multiboot modules do not fit in guest RAM: kernel and modules need 0x100000-0xc902000, RAM below 4 GiB "
     "ends at 0x8000000", True),
    # -device of a CPU type (cold plug, as libvirt asks for <vcpus> hotpluggable ones):
    # QEMU 7.2's pc_cpu_pre_plug texts, checked against qemu-system-x86_64 7.2.
    ("cpu device of another type than -cpu", ["-smp", "1,maxcpus=2,sockets=2", "-device",
                                             "kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0"],
     "-device kvm64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0: "
     "Invalid CPU type, expected cpu type: 'qemu64-x86_64-cpu'", True),
    ("cpu device socket out of range", ["-smp", "1,maxcpus=2,sockets=2", "-device",
                                        "qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0"],
     "-device qemu64-x86_64-cpu,socket-id=2,core-id=0,thread-id=0: Invalid CPU socket-id: 2 must be in range 0:1",
     True),
    ("cpu device in an occupied slot", ["-smp", "2,maxcpus=4,sockets=4", "-device",
                                        '{"driver":"qemu64-x86_64-cpu","socket-id":1,"core-id":0,"thread-id":0}'],
     '-device {"driver":"qemu64-x86_64-cpu","socket-id":1,"core-id":0,"thread-id":0}: '
     "CPU[1] with APIC ID 1 exists", True),
    ("cpu device without core-id", ["-smp", "1,maxcpus=2,sockets=2", "-device",
                                    "qemu64-x86_64-cpu,socket-id=1,thread-id=0"],
     "-device qemu64-x86_64-cpu,socket-id=1,thread-id=0: CPU core-id is not set", True),
    ("cpu device beyond maxcpus", ["-smp", "1,maxcpus=2,sockets=2", "-device",
                                   "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0", "-device",
                                   "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,id=c2"],
     "-device qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,id=c2: CPU[1] with APIC ID 1 exists", True),
    ("cpu device with an unknown property", ["-smp", "1,maxcpus=2,sockets=2", "-device",
                                             "qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,foo=1"],
     "-device qemu64-x86_64-cpu,socket-id=1,core-id=0,thread-id=0,foo=1: "
     "Property 'qemu64-x86_64-cpu.foo' not found", True),
    ("cpu device on the none machine", ["-M", "none", "-device", "qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0"],
     "-device qemu64-x86_64-cpu,socket-id=0,core-id=0,thread-id=0: apic-id property was not initialized properly",
     True),
]


def elf_bytes(is64, machine, loads, notes=b"", truncate=0):
    """A minimal ELF executable: header, program headers (a PT_NOTE first if
    any notes), then the notes and each load's bytes."""
    ehsize, phentsize = (64, 56) if is64 else (52, 32)
    phnum = len(loads) + (1 if notes else 0)
    out = bytearray(ehsize + phnum * phentsize)
    out[0:7] = b"\x7fELF" + bytes([2 if is64 else 1, 1, 1])
    struct.pack_into("<HHI", out, 16, 2, machine, 1)
    if is64:
        struct.pack_into("<QQQIHHH", out, 24, 0x100000, ehsize, 0, 0, ehsize, phentsize, phnum)
    else:
        struct.pack_into("<IIIIHHH", out, 24, 0x100000, ehsize, 0, 0, ehsize, phentsize, phnum)
    headers = []
    if notes:
        headers.append((4, len(out), 0, notes))
    for paddr, data in loads:
        headers.append((1, 0, paddr, data))
    ph = ehsize
    for kind, _, paddr, data in headers:
        offset = len(out)
        out += data
        if is64:
            struct.pack_into("<IIQQQQQQ", out, ph, kind, 7, offset, paddr, paddr, len(data), len(data), 0x1000)
        else:
            struct.pack_into("<IIIIIIII", out, ph, kind, offset, paddr, paddr, len(data), len(data), 7, 0x1000)
        ph += phentsize
    return bytes(out[:len(out) - truncate])


def multiboot_header(flags, aout=(), good=True):
    checksum = (-(0x1BADB002 + flags) + (0 if good else 1)) & 0xffffffff
    return struct.pack("<III", 0x1BADB002, flags, checksum) + struct.pack("<%dI" % len(aout), *aout)


def make_kernels(work):
    def write(name, data):
        with open(os.path.join(work, name), "wb") as f:
            f.write(data)
    write("bad-checksum.bin", multiboot_header(0x10003, (0x100000, 0x100000, 0, 0, 0x100020), good=False).ljust(4096, b"\x90"))
    write("unknown.bin", bytes([1]) * 0x10000)
    write("truncated.elf", elf_bytes(False, 3, [(0x100000, b"\x90" * 4096)], truncate=1024))
    write("nonote64.elf", elf_bytes(True, 62, [(0x100000, b"\x90" * 4096)]))
    write("mb64.elf", elf_bytes(True, 62, [(0x100000, multiboot_header(0x3).ljust(4096, b"\x90"))]))
    write("mb.bin", multiboot_header(0x10003, (0x100000, 0x100000, 0, 0, 0x100020)).ljust(4096, b"\x90"))
    with open(os.path.join(work, "big.mod"), "wb") as f:
        f.truncate(200 << 20)

SERIAL_BEFORE = b"serial output from an earlier run\n"
LOG_BEFORE = b"log from an earlier run\n"


def processes_with(marker):
    """Pids whose command line contains marker (a daemon left behind)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run_case(program_path, args, expected, daemonize, work, absent=()):
    """Returns a list of failure reasons (empty when the case passed)."""
    program = os.path.basename(program_path)
    marker = "kestrel-cli-%s" % uuid.uuid4().hex
    pidfile = os.path.join(work, "kestrel.pid")
    serial_old = os.path.join(work, "serial-existing.log")
    serial_new = os.path.join(work, "serial-new.log")
    logfile = os.path.join(work, "debug.log")
    with open(serial_old, "wb") as f:
        f.write(SERIAL_BEFORE)
    with open(logfile, "wb") as f:
        f.write(LOG_BEFORE)
    for stale in (pidfile, serial_new):
        if os.path.exists(stale):
            os.unlink(stale)

    side = ["-name", marker, "-pidfile", pidfile, "-serial", "file:" + serial_old,
            "-serial", "file:" + serial_new, "-D", logfile]
    if daemonize:
        side.append("-daemonize")
    argv = [program_path] + side + args
    failures = []
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=20, start_new_session=True)
    except subprocess.TimeoutExpired:
        return ["did not exit within 20 s"]

    if proc.returncode != 1:
        failures.append("exit status %d, expected 1" % proc.returncode)
    lines = proc.stderr.decode(errors="replace").splitlines()
    want = "%s: %s" % (program, expected)
    if lines != [want]:
        failures.append("stderr %r, expected exactly [%r]" % (lines, want))
    if proc.stdout:
        failures.append("stdout not empty: %r" % proc.stdout[:200])

    time.sleep(0.2)  # give a wrongly started daemon time to show up
    leftovers = processes_with(marker)
    for pid in leftovers:
        os.kill(pid, 9)
    if leftovers:
        failures.append("left processes running: %s" % leftovers)
    for path in absent:
        if os.path.lexists(path):
            failures.append("created %s" % path)
            os.unlink(path)
    if os.path.exists(pidfile):
        failures.append("pid file was created")
    if os.path.exists(serial_new):
        failures.append("-serial file: created %s" % serial_new)
    if read(serial_old) != SERIAL_BEFORE:
        failures.append("-serial file: changed an existing file")
    if read(logfile) != LOG_BEFORE:
        failures.append("-D changed an existing log file")
    return failures


# Most of a case's time is the wait for a wrongly started daemon, so cases
# run side by side, each worker in its own scratch directory.
WORKERS = 8


def expand_case(case, work):
    name, args, expected, daemonize, *absent = case
    return (name, [a.replace("{work}", work) for a in args], expected.replace("{work}", work),
            daemonize, [p.replace("{work}", work) for p in (absent[0] if absent else [])])


def make_workdirs(root, binary):
    """One scratch directory per worker, each with the test kernels and a
    qemu-system-x86_64 link to the binary."""
    dirs = queue.Queue()
    for i in range(WORKERS):
        work = os.path.join(root, "w%d" % i)
        os.mkdir(work)
        make_kernels(work)
        os.symlink(binary, os.path.join(work, "qemu-system-x86_64"))
        dirs.put(work)
    return dirs


def run_in_workdir(dirs, program, case):
    work = dirs.get()
    try:
        name, args, expected, daemonize, absent = expand_case(case, work)
        path = os.path.join(work, program) if program == "qemu-system-x86_64" else program
        return run_case(path, args, expected, daemonize, work, absent)
    finally:
        dirs.put(work)


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH/TO/kestrel" % sys.argv[0], file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    runs = [(program, case) for program in (binary, "qemu-system-x86_64") for case in CASES]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="kestrel-cli-") as root:
        dirs = make_workdirs(root, binary)
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            outcomes = pool.map(lambda run: run_in_workdir(dirs, *run), runs)
            for (program, case), failures in zip(runs, outcomes):
                label = "%s (as %s)" % (case[0], os.path.basename(program))
                if failures:
                    failed += 1
                    print("FAIL %s" % label)
                    for reason in failures:
                        print("     %s" % reason)
                else:
                    passed += 1
                    print("PASS %s" % label)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
