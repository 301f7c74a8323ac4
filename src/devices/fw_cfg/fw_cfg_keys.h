#pragma once
// QEMU's firmware configuration interface (docs/specs/fw_cfg.txt): the
// selector keys, the DMA control bits and the x86 ports. Firmware (SeaBIOS,
// the option ROMs) and test kernels read items by these numbers.
#include <cstddef>
#include <cstdint>

namespace kestrel::fwcfg {

// Items every machine has.
constexpr uint16_t SIGNATURE = 0x00;    // "QEMU"
constexpr uint16_t ID = 0x01;           // u32: bit 0 traditional interface, bit 1 DMA
constexpr uint16_t UUID = 0x02;         // 16 bytes, as -uuid
constexpr uint16_t RAM_SIZE = 0x03;     // u64
constexpr uint16_t NOGRAPHIC = 0x04;    // u16
constexpr uint16_t NB_CPUS = 0x05;      // u16: CPUs at boot
constexpr uint16_t MACHINE_ID = 0x06;
constexpr uint16_t KERNEL_ADDR = 0x07;  // u32
constexpr uint16_t KERNEL_SIZE = 0x08;  // u32
constexpr uint16_t KERNEL_CMDLINE = 0x09;
constexpr uint16_t INITRD_ADDR = 0x0a;  // u32
constexpr uint16_t INITRD_SIZE = 0x0b;  // u32
constexpr uint16_t BOOT_DEVICE = 0x0c;
constexpr uint16_t NUMA = 0x0d;
constexpr uint16_t BOOT_MENU = 0x0e;    // u16
constexpr uint16_t MAX_CPUS = 0x0f;     // u16: highest APIC ID + 1
constexpr uint16_t KERNEL_ENTRY = 0x10; // u32
constexpr uint16_t KERNEL_DATA = 0x11;
constexpr uint16_t INITRD_DATA = 0x12;
constexpr uint16_t CMDLINE_ADDR = 0x13; // u32
constexpr uint16_t CMDLINE_SIZE = 0x14; // u32, with the NUL
constexpr uint16_t CMDLINE_DATA = 0x15;
constexpr uint16_t SETUP_ADDR = 0x16;
constexpr uint16_t SETUP_SIZE = 0x17;
constexpr uint16_t SETUP_DATA = 0x18;
constexpr uint16_t FILE_DIR = 0x19;     // be32 count, then FileEntry[count]
constexpr uint16_t FILE_FIRST = 0x20;   // the files, sorted by name

// Architecture items (the x86 ones): the key with ARCH_LOCAL set.
constexpr uint16_t WRITE_CHANNEL = 0x4000;
constexpr uint16_t ARCH_LOCAL = 0x8000;
constexpr uint16_t ENTRY_MASK = 0x3fff;
constexpr uint16_t ACPI_TABLES = ARCH_LOCAL | 0;
constexpr uint16_t SMBIOS_ENTRIES = ARCH_LOCAL | 1;
constexpr uint16_t IRQ0_OVERRIDE = ARCH_LOCAL | 2;
constexpr uint16_t E820_TABLE = ARCH_LOCAL | 3;  // legacy reservations; "etc/e820" is the map
constexpr uint16_t HPET = ARCH_LOCAL | 4;

constexpr uint16_t DEFAULT_FILE_SLOTS = 0x20;  // QEMU's x-file-slots
constexpr size_t MAX_FILE_PATH = 56;           // with the NUL

// DMA: the guest writes the guest-physical address of a FWCfgDmaAccess
// {be32 control, be32 length, be64 address}; the device runs it and writes
// the control word back (0, or ERROR).
constexpr uint32_t DMA_CTL_ERROR = 0x01;
constexpr uint32_t DMA_CTL_READ = 0x02;
constexpr uint32_t DMA_CTL_SKIP = 0x04;
constexpr uint32_t DMA_CTL_SELECT = 0x08;  // key in bits 16-31
constexpr uint32_t DMA_CTL_WRITE = 0x10;
constexpr uint64_t DMA_SIGNATURE = 0x51454d5520434647ull;  // "QEMU CFG", read at the DMA port

// The pc machine's ports.
constexpr uint16_t IO_PORT = 0x510;   // selector (16-bit write) and data (8-bit read) at 0x511
constexpr uint16_t IO_LEN = 2;
constexpr uint16_t DMA_PORT = 0x514;  // big-endian address: high half at 0x514, low at 0x518
constexpr uint16_t DMA_LEN = 8;

} // namespace kestrel::fwcfg
