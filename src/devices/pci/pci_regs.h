#pragma once
// Offsets and bits of the PCI type 0 configuration header (PCI Local Bus
// Specification 3.0, chapter 6) and the IDs kestrel's devices share with QEMU.
#include <cstdint>

namespace kestrel::pci {

constexpr uint16_t VENDOR_ID = 0x00;
constexpr uint16_t DEVICE_ID = 0x02;
constexpr uint16_t COMMAND = 0x04;
constexpr uint16_t STATUS = 0x06;
constexpr uint16_t REVISION_ID = 0x08;
constexpr uint16_t CLASS_PROG = 0x09;      // programming interface; class code is 0x09..0x0b
constexpr uint16_t CACHE_LINE_SIZE = 0x0c;
constexpr uint16_t LATENCY_TIMER = 0x0d;
constexpr uint16_t HEADER_TYPE = 0x0e;
constexpr uint16_t BAR0 = 0x10;
constexpr unsigned BAR_COUNT = 6;
constexpr uint16_t SUBSYSTEM_VENDOR_ID = 0x2c;
constexpr uint16_t SUBSYSTEM_ID = 0x2e;
constexpr uint16_t ROM_ADDRESS = 0x30;
constexpr uint16_t CAPABILITY_LIST = 0x34;
constexpr uint16_t INTERRUPT_LINE = 0x3c;
constexpr uint16_t INTERRUPT_PIN = 0x3d;

constexpr uint16_t CONFIG_HEADER_SIZE = 0x40;
constexpr uint16_t CONFIG_SPACE_SIZE = 0x100;
constexpr uint16_t EXPRESS_CONFIG_SPACE_SIZE = 0x1000;

constexpr uint16_t COMMAND_IO = 1u << 0;
constexpr uint16_t COMMAND_MEMORY = 1u << 1;
constexpr uint16_t COMMAND_MASTER = 1u << 2;
constexpr uint16_t COMMAND_INTX_DISABLE = 1u << 10;

constexpr uint16_t STATUS_INTERRUPT = 1u << 3;
constexpr uint16_t STATUS_CAP_LIST = 1u << 4;
constexpr uint16_t STATUS_FAST_BACK = 1u << 7;
constexpr uint16_t STATUS_MASTER_PARITY = 1u << 8;
constexpr uint16_t STATUS_DEVSEL_MEDIUM = 1u << 9;
constexpr uint16_t STATUS_SIG_TARGET_ABORT = 1u << 11;
constexpr uint16_t STATUS_REC_TARGET_ABORT = 1u << 12;
constexpr uint16_t STATUS_REC_MASTER_ABORT = 1u << 13;
constexpr uint16_t STATUS_SIG_SYSTEM_ERROR = 1u << 14;
constexpr uint16_t STATUS_DETECTED_PARITY = 1u << 15;
// The error bits software clears by writing 1.
constexpr uint16_t STATUS_W1C_BITS = STATUS_MASTER_PARITY | STATUS_SIG_TARGET_ABORT |
                                     STATUS_REC_TARGET_ABORT | STATUS_REC_MASTER_ABORT |
                                     STATUS_SIG_SYSTEM_ERROR | STATUS_DETECTED_PARITY;

constexpr uint8_t HEADER_TYPE_NORMAL = 0x00;
constexpr uint8_t HEADER_TYPE_MULTIFUNCTION = 0x80;

constexpr uint32_t BAR_SPACE_IO = 0x1;
constexpr uint32_t BAR_MEM_TYPE_64 = 0x4;
constexpr uint32_t BAR_MEM_PREFETCH = 0x8;
constexpr uint32_t ROM_ADDRESS_ENABLE = 0x1;

// Capability IDs (PCI Code and ID Assignment Specification).
constexpr uint8_t CAP_ID_PM = 0x01;
constexpr uint8_t CAP_ID_MSI = 0x05;
constexpr uint8_t CAP_ID_VENDOR = 0x09;
constexpr uint8_t CAP_ID_EXPRESS = 0x10;
constexpr uint8_t CAP_ID_MSIX = 0x11;

// INTx pins as the Interrupt Pin register encodes them.
constexpr uint8_t PIN_NONE = 0, PIN_INTA = 1, PIN_INTB = 2, PIN_INTC = 3, PIN_INTD = 4;

constexpr uint16_t VENDOR_INTEL = 0x8086;
// QEMU gives every PCI function it creates this subsystem ID; guests see it.
constexpr uint16_t SUBSYSTEM_VENDOR_QEMU = 0x1af4;  // Red Hat / Qumranet
constexpr uint16_t SUBSYSTEM_QEMU = 0x1100;

constexpr unsigned SLOTS_PER_BUS = 32;
constexpr unsigned FUNCTIONS_PER_SLOT = 8;

} // namespace kestrel::pci
