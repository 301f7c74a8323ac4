// -drive, -device and -object: values, implied ids and devices, PCI slots,
// and QEMU 7.2's messages (checked against qemu-system-x86_64 7.2).
#include "parse_helpers.h"

#include "block/drive_config.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

const std::string kImg = "/tmp/x.img";
const std::string kDrive = "file=/tmp/x.img,format=raw,if=none,id=d0";

std::string slots(const Config& c) {
    std::string s;
    for (const DeviceConfig& d : c.devices)
        s += d.props.str("drive") + "@" + std::to_string(d.pci_slot()) + "." + std::to_string(d.pci_function()) + " ";
    return s;
}

} // namespace

TEST_CASE("-drive if=virtio: implied ids, indexes and devices", "[drive][config]") {
    Config c = parse_ok({"-drive", "file=/tmp/a.img,format=raw,if=virtio", "-drive",
                         "file=/tmp/b.img,if=virtio,index=3", "-drive", "file=/tmp/c.img,if=virtio", "-vga", "none",
                         "-nic", "none"});
    REQUIRE(c.drives.size() == 4);
    CHECK(c.drives[3].id == "ide1-cd0");  // QEMU's default empty CD-ROM drive
    CHECK(c.drives[0].id == "virtio0");
    CHECK(c.drives[0].interface == "virtio");
    CHECK(c.drives[0].index == 0);
    CHECK(c.drives[0].file == "/tmp/a.img");
    CHECK(c.drives[0].format == "raw");
    CHECK(c.drives[0].location == "-drive file=/tmp/a.img,format=raw,if=virtio");
    CHECK(c.drives[1].id == "virtio3");
    CHECK(c.drives[1].format.empty());  // probed when opened
    CHECK(c.drives[2].id == "virtio1");  // the first free index
    REQUIRE(c.devices.size() == 3);
    for (const DeviceConfig& d : c.devices) {
        CHECK(d.implied);
        CHECK(d.driver() == "virtio-blk-pci");
        CHECK(d.id.empty());
        CHECK(d.props.uint("num-queues") == 65535);  // QEMU's auto
    }
    CHECK(c.devices[1].location == "-drive file=/tmp/b.img,if=virtio,index=3");
    CHECK(slots(c) == "virtio0@2.0 virtio3@3.0 virtio1@4.0 ");  // -vga none leaves 00:02.0 free
    CHECK(c.drives[0].aio == "threads");
    CHECK(c.drives[0].discard == "ignore");
    CHECK_FALSE(c.drives[0].read_only);
    CHECK_FALSE(c.drives[0].snapshot);
}

TEST_CASE("-drive if=none: implied ids count on their own interface", "[drive][config]") {
    Config c = parse_ok({"-drive", "file=/tmp/a.img,format=raw,if=virtio", "-drive",
                         "file=/tmp/b.img,if=none,id=n1", "-drive", "file=/tmp/c.img,if=none",
                         "-drive", "if=none"});
    CHECK(c.drives[1].id == "n1");
    CHECK(c.drives[1].index == 0);
    CHECK(c.drives[2].id == "none1");
    CHECK(c.drives[3].id == "none2");
    CHECK(c.drives[3].file.empty());  // an empty drive is fine until a device uses it
    CHECK(c.devices.size() == 1);
}

TEST_CASE("-drive cache modes as QEMU resolves them", "[drive][config]") {
    auto cache = [](const std::string& opts) {
        DriveConfig d = parse_ok({"-drive", "file=/tmp/a.img,format=raw,if=virtio," + opts}).drives[0];
        return std::string(d.cache_writeback ? "wb" : "-") + (d.cache_direct ? " direct" : "") +
               (d.cache_no_flush ? " no-flush" : "");
    };
    CHECK(cache("cache=writeback") == "wb");
    CHECK(cache("cache=none") == "wb direct");
    CHECK(cache("cache=writethrough") == "-");
    CHECK(cache("cache=directsync") == "- direct");
    CHECK(cache("cache=unsafe") == "wb no-flush");
    CHECK(cache("cache=unsafe,cache.no-flush=off,cache.writeback=off") == "-");
    CHECK(cache("cache.direct=on") == "wb direct");
    CHECK(cache("cache.direct=on,cache=writethrough") == "- direct");  // the sub-options win
}

TEST_CASE("-drive aio, readonly, snapshot, serial, discard", "[drive][config]") {
    DriveConfig d = parse_ok({"-drive", "file=/tmp/a.img,format=raw,if=virtio,aio=native,cache=none,"
                                        "readonly=on,snapshot=on,serial=ABC,,1,discard=unmap"})
                        .drives[0];
    CHECK(d.aio == "native");
    CHECK(d.read_only);
    CHECK(d.snapshot);
    CHECK(d.serial == "ABC,1");
    CHECK(d.discard == "unmap");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,aio=io_uring"}).drives[0].aio == "io_uring");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,aio=native,cache.direct=on"}).drives[0].aio == "native");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,read-only=on"}).drives[0].read_only);
    CHECK(parse_ok({"-drive", "file=a,if=virtio,discard=on"}).drives[0].discard == "unmap");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,discard=off"}).drives[0].discard == "ignore");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,discard=ignore"}).drives[0].discard == "ignore");
    CHECK(parse_ok({"-drive", "file=a,if=virtio,media=disk,index=0x2"}).drives[0].index == 2);
    CHECK(parse_ok({"-drive", "file=a,if=virtio,index=-1"}).drives[0].index == 0);
    // The drive's serial is the implied device's serial.
    CHECK(parse_ok({"-drive", "file=a,if=virtio,serial=S1"}).devices[0].props.str("serial") == "S1");
}

TEST_CASE("-drive short-form booleans warn as QEMU", "[drive][config]") {
    Config c = parse_ok({"-drive", "file=a,if=virtio,readonly"});
    CHECK(c.drives[0].read_only);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0] == "-drive file=a,if=virtio,readonly: warning: short-form boolean option "
                           "'readonly' deprecated; please use readonly=on instead");
}

TEST_CASE("-drive errors", "[drive][config]") {
    auto err = [](const std::string& opts) { return parse_error({"-drive", opts}); };
    CHECK(err("file=a,format=vmdk,if=virtio") ==
          "-drive file=a,format=vmdk,if=virtio: image format 'vmdk' is not supported by kestrel yet "
          "(format=raw and format=qcow2 are)");
    CHECK(err("file=a,format=raw,if=virtio,l2-cache-size=1M") ==
          "-drive file=a,format=raw,if=virtio,l2-cache-size=1M: Block format 'raw' does not support the "
          "option 'l2-cache-size'");
    CHECK(err("file=a,format=qcow2,if=virtio,l2-cache-size=1X") ==
          "-drive file=a,format=qcow2,if=virtio,l2-cache-size=1X: Parameter 'l2-cache-size' expects a "
          "non-negative number below 2^64");
    CHECK(err("file=a,format=foo,if=virtio") == "-drive file=a,format=foo,if=virtio: Unknown driver 'foo'");
    CHECK(err("file=a,format=raw,index=4") ==
          "-drive file=a,format=raw,index=4: machine type does not support if=ide,bus=2,unit=0");
    CHECK(err("file=a,format=raw,if=ide,index=7") ==
          "-drive file=a,format=raw,if=ide,index=7: machine type does not support if=ide,bus=3,unit=1");
    CHECK(err("file=a,if=floppy") ==
          "-drive file=a,if=floppy: kestrel has no floppy controller yet (use if=virtio, or if=none "
          "with -device virtio-blk-pci,drive=ID)");
    CHECK(err("file=a,if=scsi") == "-drive file=a,if=scsi: machine type does not support if=scsi,bus=0,unit=0");
    CHECK(err("file=a,if=foo") == "-drive file=a,if=foo: unsupported bus type 'foo'");
    CHECK(err("file=a,if=virtio,media=cdrom") ==
          "-drive file=a,if=virtio,media=cdrom: media=cdrom is supported by kestrel on IDE only (if=ide)");
    CHECK(err("file=a,if=virtio,media=foo") == "-drive file=a,if=virtio,media=foo: 'foo' invalid media");
    CHECK(err("file=a,if=virtio,cache=foo") == "-drive file=a,if=virtio,cache=foo: invalid cache option");
    CHECK(err("file=a,if=virtio,aio=foo") == "-drive file=a,if=virtio,aio=foo: invalid aio option");
    CHECK(err("file=a,if=virtio,aio=native") ==
          "-drive file=a,if=virtio,aio=native: aio=native was specified, but it requires "
          "cache.direct=on, which was not specified.");
    CHECK(err("file=a,if=virtio,discard=foo") == "-drive file=a,if=virtio,discard=foo: Invalid discard option");
    CHECK(err("file=a,if=virtio,readonly=foo") ==
          "-drive file=a,if=virtio,readonly=foo: Parameter 'read-only' expects 'on' or 'off'");
    CHECK(err("file=a,if=virtio,snapshot=x") ==
          "-drive file=a,if=virtio,snapshot=x: Parameter 'snapshot' expects 'on' or 'off'");
    CHECK(err("file=a,if=virtio,cache.direct=x") ==
          "-drive file=a,if=virtio,cache.direct=x: Parameter 'cache.direct' expects 'on' or 'off'");
    CHECK(err("file=a,if=virtio,index=x") == "-drive file=a,if=virtio,index=x: Parameter 'index' expects a number");
    CHECK(err("file=a,format=raw,if=virtio,foo=1") ==
          "-drive file=a,format=raw,if=virtio,foo=1: Block format 'raw' does not support the option 'foo'");
    CHECK(err("file=a,format=raw,if=virtio,addr=5") ==
          "-drive file=a,format=raw,if=virtio,addr=5: Block format 'raw' does not support the option 'addr'");
    CHECK(err("file=a,if=virtio,werror=stop") ==
          "-drive file=a,if=virtio,werror=stop: drive option 'werror' is not supported by kestrel yet");
    CHECK(err("file=a,if=virtio,id=1a") == "-drive file=a,if=virtio,id=1a: Parameter 'id' expects an identifier");
    CHECK(err("format=raw,if=virtio") == "-drive format=raw,if=virtio: A block device must be specified for \"file\"");
    CHECK(err("if=none,id=x,format=raw") ==
          "-drive if=none,id=x,format=raw: A block device must be specified for \"file\"");
    CHECK(err("if=virtio") == "-drive if=virtio: Device needs media, but drive is empty");
    CHECK(parse_error({"-drive", "file=a,if=virtio,id=a", "-drive", "file=b,if=virtio,id=a"}) ==
          "-drive file=b,if=virtio,id=a: Duplicate ID 'a' for drive");
    CHECK(parse_error({"-drive", "file=a,if=virtio,index=0", "-drive", "file=b,if=virtio,index=0"}) ==
          "-drive file=b,if=virtio,index=0: drive with bus=0, unit=0 (index=0) exists");
    CHECK(parse_error({"-drive", "file=a,if=none,id=virtio0", "-drive", "file=b,if=virtio"}) ==
          "-drive file=b,if=virtio: Device with id 'virtio0' already exists");
}

TEST_CASE("-device virtio-blk-pci properties", "[drive][config]") {
    Config c = parse_ok({"-object", "iothread,id=io1", "-drive", kDrive, "-device",
                         "virtio-blk-pci,drive=d0,id=disk0,bootindex=1,num-queues=4,iothread=io1,"
                         "serial=SN,addr=0x1f.7"});
    REQUIRE(c.devices.size() == 1);
    const DeviceConfig& d = c.devices[0];
    CHECK(d.driver() == "virtio-blk-pci");
    CHECK(d.id == "disk0");
    CHECK_FALSE(d.implied);
    CHECK(d.props.str("drive") == "d0");
    CHECK(d.props.optional_int("bootindex") == 1);
    CHECK(d.props.uint("num-queues") == 4u);
    CHECK(d.props.str("iothread") == "io1");
    CHECK(d.props.str("serial") == "SN");
    CHECK(d.pci_slot() == 0x1fu);
    CHECK(d.pci_function() == 7);
    CHECK(d.location == "-device virtio-blk-pci,drive=d0,id=disk0,bootindex=1,num-queues=4,iothread=io1,"
                        "serial=SN,addr=0x1f.7");
    // The alias, num-queues=65535 (QEMU's auto) and a drive's serial.
    Config a = parse_ok({"-drive", kDrive + ",serial=DS", "-device", "virtio-blk,drive=d0,num-queues=65535"});
    CHECK(a.devices[0].driver() == "virtio-blk-pci");
    CHECK(a.devices[0].props.uint("num-queues") == 65535);  // QEMU's auto
    CHECK(a.devices[0].props.str("serial") == "DS");
    CHECK(parse_ok({"-drive", kDrive + ",serial=DS", "-device", "virtio-blk-pci,drive=d0,serial=X"})
              .devices[0].props.str("serial") == "X");
    CHECK(parse_ok({"-drive", kDrive, "-device", "virtio-blk-pci,drive=d0,addr=10"}).devices[0].pci_slot() == 16u);
}

TEST_CASE("PCI slots: -device ones first, then the implied ones, lowest free slot", "[drive][config]") {
    Config c = parse_ok({"-drive", "file=a,format=raw,if=virtio", "-drive", "file=b,if=none,id=n1",
                         "-drive", "file=c,if=none,id=n2", "-device", "virtio-blk-pci,drive=n1,addr=3",
                         "-device", "virtio-blk-pci,drive=n2", "-drive", "file=d,if=virtio", "-vga", "none",
                         "-nic", "none"});
    CHECK(slots(c) == "n1@3.0 n2@2.0 virtio0@4.0 virtio1@5.0 ");
    // QEMU's default VGA takes slot 2 first.
    c = parse_ok({"-drive", "file=b,if=none,id=n1", "-device", "virtio-blk-pci,drive=n1", "-nic", "none"});
    CHECK(slots(c) == "n1@3.0 ");
    CHECK(c.board_devices.size() > 2);
    // A function other than 0 does not make its slot taken.
    CHECK(slots(parse_ok({"-drive", "file=b,if=none,id=n1", "-drive", "file=c,if=none,id=n2", "-device",
                          "virtio-blk-pci,drive=n1,addr=2.1", "-device", "virtio-blk-pci,drive=n2", "-vga",
                          "none", "-nic", "none"})) == "n1@2.1 n2@2.0 ");
    std::vector<std::string> args{"-vga", "none", "-nic", "none"};
    for (int i = 0; i < 31; ++i) {  // slots 2..31 are free
        args.push_back("-drive");
        args.push_back("file=a,format=raw,if=virtio");
    }
    CHECK(parse_error(args) == "-drive file=a,format=raw,if=virtio: PCI: no slot/function available for "
                               "virtio-blk-pci, all in use or reserved");
    args.resize(64);
    CHECK(parse_ok(args).devices.back().pci_slot() == 31u);
    // Without -nodefaults QEMU's VGA holds 00:02.0 and its default e1000 00:03.0.
    CHECK(slots(parse_ok({"-drive", "file=a,format=raw,if=virtio"})) == "virtio0@4.0 ");
}

TEST_CASE("-device errors", "[drive][config]") {
    const std::string D = "-device";
    CHECK(parse_error({D, "foo"}) == "-device foo: 'foo' is not a valid device model name");
    CHECK(parse_error({D, "rtl8139"}) == "-device rtl8139: device 'rtl8139' is not supported by kestrel yet");
    CHECK(parse_error({D, "driver=,id=x"}) == "-device driver=,id=x: '' is not a valid device model name");
    CHECK(parse_error({D, "id=x"}) == "-device id=x: Parameter 'driver' is missing");
    CHECK(parse_error({D, "virtio-blk-pci,drive=x"}) ==
          "-device virtio-blk-pci,drive=x: Property 'virtio-blk-device.drive' can't find value 'x'");
    CHECK(parse_error({D, "virtio-blk-pci"}) == "-device virtio-blk-pci: drive property not set");
    CHECK(parse_error({"-drive", "if=none,id=e", D, "virtio-blk-pci,drive=e"}) ==
          "-device virtio-blk-pci,drive=e: Device needs media, but drive is empty");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0", D, "virtio-blk-pci,drive=d0"}) ==
          "-device virtio-blk-pci,drive=d0: Drive 'd0' is already in use by another device");
    CHECK(parse_error({"-drive", "file=a,if=virtio,id=v", D, "virtio-blk-pci,drive=v"}) ==
          "-drive file=a,if=virtio,id=v: Drive 'v' is already in use because it has been automatically "
          "connected to another device (did you need 'if=none' in the drive options?)");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,iothread=io1"}) ==
          "-device virtio-blk-pci,drive=d0,iothread=io1: Device 'io1' not found");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,id=a", D, "virtio-blk-pci,drive=d0,id=a"}) ==
          "-device virtio-blk-pci,drive=d0,id=a: Duplicate ID 'a' for device");
    CHECK(parse_error({D, "virtio-blk-pci,id=1x"}) == "-device virtio-blk-pci,id=1x: Parameter 'id' expects an identifier");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,foo=1"}) ==
          "-device virtio-blk-pci,drive=d0,foo=1: Property 'virtio-blk-pci.foo' not found");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,write-cache=on"}) ==
          "-device virtio-blk-pci,drive=d0,write-cache=on: Property 'virtio-blk-pci.write-cache' is not "
          "supported by kestrel yet");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,num-queues=0"}) ==
          "-device virtio-blk-pci,drive=d0,num-queues=0: num-queues property must be larger than 0");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,num-queues=1025"}) ==
          "-device virtio-blk-pci,drive=d0,num-queues=1025: num-queues property must be at most 1024");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,num-queues=x"}) ==
          "-device virtio-blk-pci,drive=d0,num-queues=x: Parameter 'num-queues' expects integer");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,num-queues=70000"}) ==
          "-device virtio-blk-pci,drive=d0,num-queues=70000: Parameter 'num-queues' expects uint16_t");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,num-queues=-1"}) ==
          "-device virtio-blk-pci,drive=d0,num-queues=-1: Parameter 'num-queues' expects uint16_t");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,bootindex=1x"}) ==
          "-device virtio-blk-pci,drive=d0,bootindex=1x: Parameter 'bootindex' expects integer");
    CHECK(parse_error({"-drive", kDrive, D, "virtio-blk-pci,drive=d0,bootindex=99999999999"}) ==
          "-device virtio-blk-pci,drive=d0,bootindex=99999999999: Parameter 'bootindex' expects int32_t");
    CHECK(parse_error({"-drive", kDrive, "-drive", "file=b,if=none,id=d1", D, "virtio-blk-pci,drive=d0,bootindex=1",
                       D, "virtio-blk-pci,drive=d1,bootindex=1"}) ==
          "-device virtio-blk-pci,drive=d1,bootindex=1: The bootindex 1 has already been used");
}

TEST_CASE("-device addr= errors", "[drive][config]") {
    auto addr = [](const std::string& a) {
        return parse_error({"-drive", kDrive, "-device", "virtio-blk-pci,drive=d0,addr=" + a});
    };
    for (const char* bad : {"x", "32", "24", "3.8", "3.", "-1", "3.1x", ""}) {
        INFO(bad);
        CHECK(addr(bad) == "-device virtio-blk-pci,drive=d0,addr=" + std::string(bad) +
                               ": Property 'virtio-blk-pci.addr' doesn't take value '" + bad + "'");
    }
    CHECK(addr("0") == "-device virtio-blk-pci,drive=d0,addr=0: PCI: slot 0 function 0 not available for "
                       "virtio-blk-pci, in use by i440FX,id=(null)");
    CHECK(addr("1") == "-device virtio-blk-pci,drive=d0,addr=1: PCI: slot 1 function 0 not available for "
                       "virtio-blk-pci, in use by PIIX3,id=(null)");
    CHECK(addr("1.1").ends_with("in use by piix3-ide,id=(null)"));
    CHECK(addr("1.3").ends_with("in use by PIIX4_PM,id=(null)"));
    CHECK(parse_error({"-drive", kDrive, "-drive", "file=b,if=none,id=d1", "-device",
                       "virtio-blk-pci,drive=d0,addr=3", "-device", "virtio-blk-pci,drive=d1,addr=3", "-nic", "none"}) ==
          "-device virtio-blk-pci,drive=d1,addr=3: PCI: slot 3 function 0 not available for "
          "virtio-blk-pci, in use by virtio-blk-pci,id=(null)");
    CHECK(parse_error({"-drive", kDrive, "-drive", "file=b,if=none,id=d1", "-device",
                       "virtio-blk-pci,drive=d0,id=first", "-device", "virtio-blk-pci,drive=d1,addr=3", "-nic", "none"})
              .ends_with("in use by virtio-blk-pci,id=first"));
    CHECK(addr("2").ends_with("in use by VGA,id=(null)"));  // QEMU's default VGA
    CHECK(addr("3").ends_with("in use by e1000,id=(null)"));  // and its default NIC
    // The implied devices come last: an addr= on a -device wins over them.
    CHECK(slots(parse_ok({"-drive", "file=a,format=raw,if=virtio", "-drive", kDrive, "-device",
                          "virtio-blk-pci,drive=d0,addr=2.0", "-vga", "none", "-nic", "none"})) == "d0@2.0 virtio0@3.0 ");
}

TEST_CASE("-object iothread", "[drive][config]") {
    Config c = parse_ok({"-object", "iothread,id=io1", "-object",
                         "iothread,id=io2,poll-max-ns=0x10,poll-grow=2,poll-shrink=3,aio-max-batch=4,"
                         "thread-pool-min=1,thread-pool-max=8"});
    REQUIRE(c.iothreads.size() == 2);
    CHECK(c.iothreads[0].id == "io1");
    CHECK_FALSE(c.iothreads[0].poll_max_ns);
    CHECK(c.iothreads[1].poll_max_ns == 16);
    CHECK(c.iothreads[1].poll_grow == 2);
    CHECK(c.iothreads[1].poll_shrink == 3);
    CHECK(c.iothreads[1].aio_max_batch == 4);
    CHECK(c.iothreads[1].thread_pool_min == 1);
    CHECK(c.iothreads[1].thread_pool_max == 8);
    CHECK(parse_ok({"-object", "qom-type=iothread,id=x"}).iothreads.size() == 1);
}

TEST_CASE("-object errors", "[drive][config]") {
    CHECK(parse_error({"-object", "foo,id=x"}) == "-object foo,id=x: Parameter 'qom-type' does not accept value 'foo'");
    CHECK(parse_error({"-object", "rng-egd,id=m"}) ==
          "-object rng-egd,id=m: object type 'rng-egd' is not supported by kestrel yet");
    CHECK(parse_error({"-object", "id=x"}) == "-object id=x: Parameter 'qom-type' is missing");
    CHECK(parse_error({"-object", "iothread"}) == "-object iothread: Parameter 'id' is missing");
    CHECK(parse_error({"-object", "iothread,id=1a"}) == "-object iothread,id=1a: Parameter 'id' expects an identifier");
    CHECK(parse_error({"-object", "iothread,id=a,foo=1"}) == "-object iothread,id=a,foo=1: Invalid parameter 'foo'");
    CHECK(parse_error({"-object", "iothread,id=a,poll-max-ns=x"}) ==
          "-object iothread,id=a,poll-max-ns=x: Parameter 'poll-max-ns' expects an int64 value");
    CHECK(parse_error({"-object", "iothread,id=io1", "-object", "iothread,id=io1"}) ==
          "-object iothread,id=io1: Duplicate ID 'io1' for object");
    CHECK(parse_error({"-object", "iothread,id=a,poll-max-ns=-5"}) ==
          "poll-max-ns value must be in range [0, 9223372036854775807]");
}

TEST_CASE("-object rng-random and rng-builtin, and virtio-rng-pci's rng=", "[drive][config]") {
    Config c = parse_ok({"-object", "rng-random,id=r,filename=/dev/null", "-object",
                         R"({"qom-type":"rng-builtin","id":"b"})", "-object", "rng-random,id=d"});
    REQUIRE(c.rng_objects.size() == 3);
    CHECK(c.rng_objects[0].filename == "/dev/null");
    CHECK(c.rng_objects[1].builtin);
    CHECK(c.rng_objects[2].filename == "/dev/urandom");  // QEMU's default
    CHECK(parse_ok({"-object", "rng-random,id=r", "-device", R"({"driver":"virtio-rng-pci","rng":"r"})"})
              .devices.size() == 1);
    CHECK(parse_error({"-object", "rng-random,id=r,filename=/nonexistent/x"}) ==
          "Could not open '/nonexistent/x': No such file or directory");
    CHECK(parse_error({"-object", "rng-builtin,id=r,filename=/dev/null"}) ==
          "-object rng-builtin,id=r,filename=/dev/null: Invalid parameter 'filename'");
    CHECK(parse_error({"-device", "virtio-rng-pci,rng=nope"}) == "-device virtio-rng-pci,rng=nope: Device 'nope' not found");
    CHECK(parse_error({"-object", "iothread,id=io", "-device", "virtio-rng,rng=io"}) ==
          "-device virtio-rng,rng=io: Invalid parameter type for 'rng', expected: rng-backend");
    CHECK(parse_error({"-device", "virtio-rng-pci,period=0"}) ==
          "-device virtio-rng-pci,period=0: 'period' parameter expects a positive integer");
    CHECK(parse_error({"-device", "virtio-rng-pci,max-bytes=-1"}) ==
          "-device virtio-rng-pci,max-bytes=-1: 'max-bytes' parameter must be non-negative, and less than 2^63");
}

TEST_CASE("-device help, -object help and their per-type listings", "[drive][config]") {
    ParseOutcome o = run_parser({"-device", "help", "-drive", "file=a,if=foo"});
    CHECK(o.error.empty());
    CHECK(o.output.starts_with("USB devices:\nname \"piix3-usb-uhci\", bus PCI\n\n"
                               "Storage devices:\nname \"ide-cd\", bus IDE, desc \"virtual IDE CD-ROM\"\n"
                               "name \"ide-hd\", bus IDE, desc \"virtual IDE disk\"\n"
                               "name \"piix3-ide\", bus PCI\nname \"piix4-ide\", bus PCI\n"
                               "name \"virtio-blk-pci\", bus PCI, alias \"virtio-blk\"\n\n"
                               "Network devices:\nname \"e1000\", bus PCI, alias \"e1000-82540em\", desc \"Intel Gigabit "
                               "Ethernet\"\nname \"virtio-net-pci\", bus PCI, alias \"virtio-net\"\n\n"
                               "Input devices:\nname \"i8042\", bus ISA\nname \"isa-serial\", bus ISA\n"
                               "name \"usb-tablet\", bus usb-bus\n"
                               "name \"virtconsole\", bus virtio-serial-bus\n"
                               "name \"virtio-serial-pci\", bus PCI, alias \"virtio-serial\"\n"
                               "name \"virtserialport\", bus virtio-serial-bus\n\n"
                               "Display devices:\nname \"cirrus-vga\", bus PCI, desc \"Cirrus CLGD 54xx VGA\"\n"
                               "name \"VGA\", bus PCI\n\n"
                               "Misc devices:\n"));
    CHECK(o.output.find("name \"mc146818rtc\", bus ISA\n") != std::string::npos);
    CHECK(o.output.find("i440FX") == std::string::npos);  // the board's own are not listed
    CHECK(o.output.ends_with("\n"));
    CHECK_FALSE(o.output.ends_with("\n\n"));
    o = run_parser({"-device", "virtio-blk-pci,help"});
    CHECK(o.output.starts_with("virtio-blk-pci options:\n"
                               "  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)\n"
                               "  bootindex=<int32>\n"
                               "  drive=<str>            - Node name or ID of a block device to use as a backend\n"));
    CHECK(o.output.find("  num-queues=<uint16>    -  (default: 65535)\n") != std::string::npos);
    CHECK(run_parser({"-device", "virtio-blk,?"}).output == o.output);
    CHECK(run_parser({"-device", "foo,help"}).error == "Device 'foo' not found");
    CHECK(run_parser({"-object", "help"}).output ==
          "List of user creatable objects:\n  iothread\n  memory-backend-file\n  memory-backend-memfd\n"
          "  memory-backend-ram\n  rng-builtin\n  rng-random\n  secret\n");
    CHECK(run_parser({"-object", "rng-random,help"}).output == "rng-random options:\n  filename=<string>\n");
    CHECK(run_parser({"-object", "rng-builtin,help"}).output == "There are no options for rng-builtin.\n");
    CHECK(run_parser({"-object", "iothread,help"}).output ==
          "iothread options:\n  aio-max-batch=<int>\n  poll-grow=<int>\n  poll-max-ns=<int>\n"
          "  poll-shrink=<int>\n  thread-pool-max=<int>\n  thread-pool-min=<int>\n");
    CHECK(run_parser({"-object", "foo,help"}).error == "-object foo,help: Parameter 'qom-type' does not accept value 'foo'");
}

TEST_CASE("the probing warning is QEMU's", "[drive][config]") {
    CHECK(image_probe_warning("/tmp/dx.img") ==
          "WARNING: Image format was not specified for '/tmp/dx.img' and probing guessed raw.\n"
          "         Automatically detecting the format is dangerous for raw images, write operations on "
          "block 0 will be restricted.\n"
          "         Specify the 'raw' format explicitly to remove the restrictions.");
}

TEST_CASE("-help describes -drive, -device and -object as QEMU", "[drive][config]") {
    std::string help = run_parser({"-help"}).output;
    for (const char* line : {"\nBlock device options:\n-hda/-hdb file  use 'file' as hard disk 0/1 image\n"
                             "-hdc/-hdd file  use 'file' as hard disk 2/3 image\n"
                             "-cdrom file     use 'file' as CD-ROM image\n"
                             "-blockdev [driver=]driver[,node-name=N][,discard=ignore|unmap]\n",
                             "                configure a block backend\n"
                             "                (kestrel: drivers file, raw and qcow2)\n"
                             "-drive [file=file][,if=type][,media=d][,index=i]\n",
                             "\n-device driver[,prop[=value][,...]]\n                add device (based on driver)\n",
                             "\nGeneric object creation:\n-object TYPENAME[,PROP1=VALUE1,...]\n"}) {
        INFO(line);
        CHECK(help.find(line) != std::string::npos);
    }
    CHECK(help.find("[,aio=threads|native|io_uring]") != std::string::npos);
}

TEST_CASE("IDE drives: the default interface, -hdX and a bare image, QEMU's ids", "[drive][config]") {
    Config c = parse_ok({"c.img", "-drive", "file=a,format=raw", "-hdd", "d"});
    REQUIRE(c.drives.size() == 4);
    CHECK(c.drives[3].id == "ide1-cd0");  // index 2 is free: QEMU's default empty CD-ROM drive
    CHECK(c.drives[3].file.empty());
    CHECK(c.drives[0].file == "c.img");  // the bare image is -hda
    CHECK(c.drives[0].interface == "ide");
    CHECK(c.drives[0].index == 0);
    CHECK(c.drives[0].id == "ide0-hd0");
    CHECK(c.drives[1].id == "ide0-hd1");  // no if=: IDE, the first free index
    CHECK(c.drives[1].index == 1);
    CHECK(c.drives[2].id == "ide1-hd1");
    CHECK(c.drives[2].index == 3);
}

TEST_CASE("CD-ROM drives: -cdrom, media=cdrom (read-only, maybe empty), QEMU's ids", "[drive][config]") {
    Config c = parse_ok({"-cdrom", "a.iso", "-drive", "if=ide,media=cdrom,index=3"});
    REQUIRE(c.drives.size() == 2);
    CHECK(c.drives[0].id == "ide1-cd0");
    CHECK(c.drives[0].cdrom);
    CHECK(c.drives[0].read_only);
    CHECK(c.drives[0].index == 2);
    CHECK(c.drives[1].id == "ide1-cd1");
    CHECK(c.drives[1].file.empty());
}

TEST_CASE("-boot as QEMU's pc reads it", "[config]") {
    Config c = parse_ok({"-boot", "order=dc,once=n,menu=on,splash-time=500,reboot-timeout=1000,strict=on"});
    CHECK(c.boot.order == "dc");
    CHECK(c.boot.once == "n");
    CHECK(c.boot.menu);
    CHECK(c.boot.splash_time == 500);
    CHECK(c.boot.reboot_timeout == 1000);
    CHECK(c.boot.strict);
    CHECK(parse_ok({"-boot", "d"}).boot.order == "d");
    CHECK(parse_ok({}).boot.order == "cad");
    CHECK(run_parser({"-boot", "order=x"}).error == "Invalid boot device 'x'");
    CHECK(run_parser({"-boot", "order=cc"}).error == "Boot device 'c' was given twice");
    CHECK(run_parser({"-boot", "foo=1"}).error == "Parameter 'boot.foo' is unexpected");
    CHECK(run_parser({"-boot", "order=e"}).error == "Invalid boot device for PC: 'e'");
    CHECK(run_parser({"-boot", "reboot-timeout=70000"}).error ==
          "reboot timeout is invalid,it should be a value between -1 and 65535");
    CHECK(run_parser({"-boot", "menu=on,splash-time=70000"}).error ==
          "splash-time is invalid,it should be a value between 0 and 65535");
}
