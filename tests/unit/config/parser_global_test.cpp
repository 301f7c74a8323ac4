// -global and the board's devices: QEMU's two spellings, what they reach,
// and their errors; the board as devices/pc_layout.h lays it out.
#include "parse_helpers.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

namespace {

const DeviceConfig* board_device(const Config& c, std::string_view type) {
    for (const DeviceConfig& d : c.board_devices)
        if (d.driver() == type) return &d;
    return nullptr;
}

} // namespace

TEST_CASE("the board's devices in QEMU's order, COM ports from -serial", "[config][global]") {
    Config c = parse_ok({"-serial", "null", "-serial", "none", "-serial", "null"});
    std::vector<std::string_view> types;
    for (const DeviceConfig& d : c.board_devices) types.push_back(d.driver());
    CHECK(types == std::vector<std::string_view>{"fw_cfg_io", "i440FX-pcihost", "i440FX", "PIIX3", "VGA",
                                                 "mc146818rtc", "kvm-pit", "isa-serial", "isa-serial", "i8042",
                                                 "port92", "e1000", "piix3-ide", "ide-cd", "PIIX4_PM"});
    // QEMU's default NIC, and its default CD-ROM drive: empty, ide1-cd0 on ide.1's master.
    CHECK(board_device(c, "ide-cd")->props.str("drive") == "ide1-cd0");
    CHECK(board_device(c, "ide-cd")->bus == "ide.1");
    CHECK(c.drives.size() == 1);
    CHECK(c.drives[0].file.empty());
    CHECK(c.drives[0].cdrom);
    // None with a -device of QEMU's IDE and SCSI disks and CDs, or a drive at IDE index 2.
    CHECK(parse_ok({"-device", "ide-cd"}).drives.empty());
    CHECK(parse_ok({"-drive", "file=x,format=raw,index=2"}).drives.size() == 1);
    CHECK(parse_ok({"-hda", "x", "-nodefaults"}).drives.size() == 1);
    CHECK(parse_ok({"-hda", "x"}).drives.size() == 2);
    CHECK(c.board_devices[7].props.uint("index") == 0);
    CHECK(c.board_devices[8].props.uint("index") == 1);  // -serial none takes no port, as in QEMU
    CHECK(c.board_devices[8].props.uint("iobase") == 0x2f8);
    CHECK(c.board_devices[8].props.str("chardev") == "serial1");
    CHECK(board_device(c, "PIIX4_PM")->pci_slot() == 1);
    CHECK(board_device(c, "PIIX4_PM")->pci_function() == 3);
    CHECK(board_device(c, "piix3-ide")->pci_slot() == 1);
    CHECK(board_device(c, "piix3-ide")->pci_function() == 1);
    CHECK(parse_ok({"-nodefaults"}).board_devices.size() == 10);  // no COM port
}

TEST_CASE("-global reaches the board's devices and -device ones, before their own options", "[config][global]") {
    Config c = parse_ok({"-global", "isa-serial.irq=3", "-global", "driver=i8042,property=mouse-irq,value=5",
                         "-chardev", "null,id=c", "-device", "isa-serial,chardev=c,irq=7"});
    CHECK(board_device(c, "isa-serial")->props.uint("irq") == 3);
    CHECK(board_device(c, "i8042")->props.uint("mouse-irq") == 5);
    CHECK(c.devices.at(0).props.uint("irq") == 7);
    CHECK(c.devices.at(0).props.uint("index") == 1);  // the board's COM1 came first
    // The virtio device behind a proxy is reached by its own type name.
    Config v = parse_ok({"-global", "virtio-blk-device.num-queues=2", "-drive", "file=a,format=raw,if=virtio"});
    CHECK(v.devices.at(0).props.uint("num-queues") == 2);
    // A value may hold commas.
    Config s = parse_ok({"-global", "virtio-blk-pci.serial=a,b", "-drive", "file=a,format=raw,if=virtio"});
    CHECK(s.devices.at(0).props.str("serial") == "a,b");
}

TEST_CASE("-global errors and warnings as QEMU's", "[config][global]") {
    CHECK(run_parser({"-global", "isa-serial.foo=1"}).error ==
          "can't apply global isa-serial.foo=1: Property 'isa-serial.foo' not found");
    CHECK(run_parser({"-global", "isa-serial.iobase=x"}).error ==
          "can't apply global isa-serial.iobase=x: Parameter 'iobase' expects integer");
    CHECK(run_parser({"-global", "iobase=1"}).error == "-global iobase=1: Invalid parameter 'iobase'");
    CHECK(run_parser({"-global", "i8042.extended-state=off"}).error ==
          "can't apply global i8042.extended-state=off: Property 'i8042.extended-state' is not supported by "
          "kestrel yet");
    // No such device created: nothing to apply (as QEMU).
    CHECK(parse_ok({"-nodefaults", "-global", "isa-serial.foo=1"}).board_devices.size() == 10);
    Config w = parse_ok({"-global", "foo.bar=1", "-global", "kvm-pit.lost_tick_policy=discard"});
    CHECK(w.warnings == std::vector<std::string>{"warning: global foo.bar has invalid class name"});
}

TEST_CASE("-device refuses the board's own types, and buses it does not have", "[config][global]") {
    CHECK(run_parser({"-device", "PIIX4_PM"}).error == "-device PIIX4_PM: Parameter 'driver' expects a pluggable device type");
    CHECK(run_parser({"-device", "port92"}).error == "-device port92: Parameter 'driver' expects a pluggable device type");
    CHECK(run_parser({"-device", "isa-serial,bus=pci.0"}).error ==
          "-device isa-serial,bus=pci.0: Device 'isa-serial' can't go on PCI bus");
    CHECK(run_parser({"-device", "isa-serial,bus=usb.0"}).error == "-device isa-serial,bus=usb.0: Bus 'usb.0' not found");
    CHECK(run_parser({"-device", "isa-serial,chardev=x"}).error ==
          "-device isa-serial,chardev=x: Property 'serial.chardev' can't find value 'x'");
    CHECK(run_parser({"-device", "isa-serial", "-device", "isa-serial", "-device", "isa-serial", "-device", "isa-serial"})
              .error == "-device isa-serial: Max. supported number of ISA serial ports is 4.");
    CHECK(run_parser({"-chardev", "null,id=c", "-serial", "chardev:c", "-device", "isa-serial,chardev=c"}).error ==
          "-device isa-serial,chardev=c: Property 'serial.chardev' can't take value 'c': Device 'c' is in use");
}

TEST_CASE("IDE devices: -drive if=ide ones after the IDE function, -device ones on ide.1 by default",
          "[config][global]") {
    Config c = parse_ok({"-nodefaults", "-drive", "if=none,id=d0,file=x,format=raw", "-cdrom", "cd.iso", "-drive",
                         "file=y,format=raw,index=1", "-device", "ide-hd,drive=d0,model=M,wwn=0x10",
                         "-global", "ide-cd.ver=9.9", "-device", "ide-cd,bus=ide.0,id=c1"});
    std::vector<std::string> placed;
    for (const DeviceConfig& d : c.board_devices)
        if (d.type->bus == BusKind::Ide)
            placed.push_back(std::string(d.driver()) + "@" + d.bus + ":" + std::to_string(d.props.uint("unit")) +
                             "=" + d.props.str("drive") + "," + d.props.str("serial") + "," + d.props.str("ver"));
    for (const DeviceConfig& d : c.devices)
        placed.push_back(std::string(d.driver()) + "@" + d.bus + ":" + std::to_string(d.props.uint("unit")) + "=" +
                         d.props.str("drive") + "," + d.props.str("serial") + "," + d.props.str("ver"));
    CHECK(placed == std::vector<std::string>{"ide-hd@ide.0:1=ide0-hd1,QM00002,2.5+",
                                             "ide-cd@ide.1:0=ide1-cd0,QM00003,9.9",
                                             "ide-hd@ide.1:1=d0,QM00004,2.5+", "ide-cd@ide.0:0=,QM00001,9.9"});
    CHECK(c.devices[0].props.uint("wwn") == 0x10);
    CHECK(parse_error({"-nodefaults", "-device", "ide-cd,unit=0", "-device", "ide-cd,bus=ide.1,unit=0"}) ==
          "-device ide-cd,bus=ide.1,unit=0: IDE unit 0 is in use");
    CHECK(parse_error({"-nodefaults", "-device", "ide-cd,unit=4294967294"}) ==
          "-device ide-cd,unit=4294967294: Can't create IDE unit 4294967294, bus supports only 2 units");
}

TEST_CASE("IDE controllers made with -device: QEMU's bus names, slots, serials and default bus",
          "[config][global]") {
    Config c = parse_ok({"-nodefaults", "-device", "ide-cd,id=a", "-device", "piix3-ide,id=foo", "-device",
                         "piix4-ide", "-device", "ide-cd,id=b", "-device", "ide-cd,id=c,bus=foo.1,unit=1",
                         "-device", "ide-hd,id=d,bus=ide.1,drive=d0", "-drive", "if=none,id=d0,file=x,format=raw"});
    std::vector<std::string> placed;
    for (const DeviceConfig& d : c.devices) {
        if (d.type->bus == BusKind::Pci)
            placed.push_back(std::string(d.driver()) + "@" + std::to_string(d.props.sint("addr") >> 3));
        if (d.type->bus == BusKind::Ide)
            placed.push_back(d.id + "@" + d.bus + ":" + std::to_string(d.props.uint("unit")) + "," + d.props.str("serial"));
    }
    // The board's IDE function has ide.0 and ide.1 (QM00001-4); foo's
    // units are QM00005-8, the unnamed piix4-ide's (ide.2, ide.3) QM00009-12.
    CHECK(placed == std::vector<std::string>{"a@ide.1:0,QM00003", "piix3-ide@2", "piix4-ide@3",
                                             "b@ide.3:0,QM00011", "c@foo.1:1,QM00008", "d@ide.1:1,QM00004"});
    // A bus is known only once its controller is made, as in QEMU.
    CHECK(parse_error({"-nodefaults", "-device", "ide-cd,bus=ide.2", "-device", "piix3-ide"}) ==
          "-device ide-cd,bus=ide.2: Bus 'ide.2' not found");
    CHECK(parse_error({"-nodefaults", "-device", "piix3-ide,id=x", "-device", "ide-cd,bus=x.2"}) ==
          "-device ide-cd,bus=x.2: Bus 'x.2' not found");
    CHECK(parse_error({"-nodefaults", "-device", "piix4-ide", "-device", "ide-cd", "-device", "ide-cd",
                       "-device", "ide-cd"}) == "-device ide-cd: IDE unit 1 is in use");
}
