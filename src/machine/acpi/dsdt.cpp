// The DSDT: firmware/dsdt.asl compiled at build time, with the values that
// depend on the machine configuration patched in.
#include "firmware/dsdt.h"
#include "machine/acpi/acpi_table.h"
#include "machine/acpi/tables.h"

#include <stdexcept>
#include <string>

namespace kestrel::acpi {
namespace {

constexpr uint8_t NAME_OP = 0x08;
constexpr uint8_t DWORD_PREFIX = 0x0c;
constexpr uint64_t PCI_WINDOW_END = 0xfec00000;  // IOAPIC; the DSDT's window stops below

void patch_or_throw(std::vector<uint8_t>& aml, std::string_view name, uint32_t value) {
    if (!patch_aml_dword_name(aml, name, value))
        throw std::logic_error("DSDT has no unique DWord Name " + std::string(name));
}

} // namespace

bool patch_aml_dword_name(std::span<uint8_t> aml, std::string_view name, uint32_t value) {
    if (name.size() != 4) return false;
    size_t found = 0, at = 0;
    for (size_t i = 0; i + 10 <= aml.size(); i++) {
        if (aml[i] == NAME_OP && std::equal(name.begin(), name.end(), aml.begin() + i + 1) &&
            aml[i + 5] == DWORD_PREFIX) {
            found++;
            at = i + 6;
        }
    }
    if (found != 1) return false;
    std::memcpy(aml.data() + at, &value, sizeof value);
    return true;
}

std::vector<uint8_t> build_dsdt(uint64_t pci_hole_start, uint32_t com_ports, uint16_t pvpanic_port,
                                std::span<const uint32_t> hotplug_cpus) {
    std::span<const uint8_t> src = dsdt_aml();
    std::vector<uint8_t> aml(src.begin(), src.end());
    if (pci_hole_start >= PCI_WINDOW_END)
        throw std::invalid_argument("RAM below 4 GiB reaches into the IOAPIC area");
    patch_or_throw(aml, "PHLO", uint32_t(pci_hole_start));
    patch_or_throw(aml, "COMP", com_ports);
    patch_or_throw(aml, "PVPP", pvpanic_port);
    if (!hotplug_cpus.empty()) {
        // The definition block's terms go on to the end of the table.
        std::vector<uint8_t> more = cpu_hotplug_aml(hotplug_cpus);
        aml.insert(aml.end(), more.begin(), more.end());
        const uint32_t length = uint32_t(aml.size());
        std::memcpy(aml.data() + LENGTH_OFFSET, &length, sizeof length);
    }
    fix_checksum(aml);
    return aml;
}

} // namespace kestrel::acpi
