#pragma once
// One device to create, as the command line (or the board) asks for it:
// its type, id and property values. Config::devices holds them in QEMU's
// creation order, which is also the order devices without addr= take free
// PCI slots: every -device in command-line order, then the devices that
// -drive if=virtio implies, in -drive order.
#include "devices/device_type.h"
#include "devices/pci/pci_rom.h"

#include <optional>

#include <string>

namespace kestrel {

struct DeviceConfig {
    std::string location;             // "-device ..." (implied ones: their -drive's; board: "")
    const DeviceType* type = nullptr;
    std::string id;                   // id=, "" when none (QEMU's peripheral-anon)
    bool implied = false;             // created for a -drive if=virtio
    PropertyValues props;
    std::string bus;                  // its bus where the board has several of the kind ("ide.1"); "" otherwise
    // romfile= as found while the command line was read (a PCI function
    // with a ROM); nullopt for no ROM. rom->path is "" when rombar=0 names
    // a file that does not exist (QEMU only warns then).
    std::optional<RomFile> rom;

    std::string_view driver() const { return type->name; }
    // addr= once placed: the slot and function.
    unsigned pci_slot() const { return unsigned(props.sint("addr") >> 3); }
    unsigned pci_function() const { return unsigned(props.sint("addr") & 7); }
};

} // namespace kestrel
