#pragma once
// The pc board as QEMU's pc machine builds it, written once for every
// layer that must agree on it: the devices the board creates (the option
// parser lists and places them, the machine realizes them), the PCI
// functions they and later default devices take, and the PIIX4 power
// management registers (the device, the FADT and the DSDT).
#include <array>
#include <cstdint>
#include <string_view>

namespace kestrel::pc {

// The board's own devices in QEMU's creation order. "isa-serial" stands
// for one device per -serial port (COM1..COM4, index = the port's number),
// "vga" for the -vga card (VGA or cirrus-vga; QEMU's pc places it on the
// first free slot, which is 2), piix3-usb-uhci only with -usb.
struct BoardDevice {
    std::string_view type;
    int pci_devfn = -1;                // slot << 3 | function; -1 if not on PCI
    std::string_view qom_path = {};    // empty: /machine/unattached/device[N]
};
inline constexpr BoardDevice kBoardDevices[] = {
    {"fw_cfg_io", -1, "/machine/fw_cfg"},
    {"i440FX-pcihost", -1, "/machine/i440fx"},
    {"i440FX", 0x00},
    {"PIIX3", 0x08},
    {"vga", 0x10},
    {"mc146818rtc"},
    {"kvm-pit"},
    {"isa-serial"},
    {"i8042"},
    {"port92"},
    {"piix3-ide", 0x09},
    {"piix3-usb-uhci", 0x0a},
    {"PIIX4_PM", 0x0b},
};

// PCI functions QEMU's pc fills that kestrel leaves empty for now; no
// device may take them (none left: the PIIX3's IDE function is a board device).
struct ReservedPciFunction {
    int devfn;
    std::string_view type;
};
inline constexpr std::array<ReservedPciFunction, 0> kReservedPciFunctions{};

// ACPI PM I/O block of the PIIX4 function (QEMU's default base).
constexpr uint16_t ACPI_PM_BASE = 0x600;
constexpr unsigned ACPI_SCI_IRQ = 9;

// PIIX4 power management registers (offsets from ACPI_PM_BASE) and the
// values the FADT and DSDT publish for them.
constexpr uint16_t PM1_EVT_OFFSET = 0x00;  // 2 bytes status, 2 bytes enable
constexpr uint16_t PM1_CNT_OFFSET = 0x04;  // 2 bytes
constexpr uint16_t PM_TMR_OFFSET = 0x08;   // 4 bytes, 24-bit counter at 3.579545 MHz
constexpr uint16_t PM_BLOCK_LEN = 0x40;    // PIIX4 PMBA decodes 64 bytes
constexpr uint16_t GPE0_BASE = 0xafe0;     // 2 bytes status, 2 bytes enable
constexpr uint16_t GPE0_LEN = 4;
constexpr uint16_t RESET_CONTROL_PORT = 0xcf9;  // FADT RESET_REG, value 0x06
constexpr uint8_t RESET_VALUE = 0x06;
constexpr unsigned SLP_TYP_S5 = 0;         // \_S5 package value, PM1_CNT bits 10-12
constexpr uint16_t PM1_CNT_SCI_EN = 1u << 0;
constexpr uint16_t PM1_CNT_SLP_EN = 1u << 13;
constexpr unsigned PM1_CNT_SLP_TYP_SHIFT = 10;
constexpr uint16_t PM1_STS_TMR = 1u << 0;
constexpr uint16_t PM1_STS_PWRBTN = 1u << 8;
// FADT SMI_CMD is 0: the machine is always in ACPI mode, SCI_EN reads 1.
} // namespace kestrel::pc
