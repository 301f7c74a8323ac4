// FADT (ACPI 6.0 layout, revision 6) and FACS for the PIIX4-style PM block.
#include "machine/acpi/acpi_table.h"
#include "machine/acpi/tables.h"
#include "kvm/pc_memory_map.h"
#include "devices/pc_layout.h"

namespace kestrel::acpi {
namespace {

constexpr uint32_t PM1A_EVT = pc::ACPI_PM_BASE + pc::PM1_EVT_OFFSET;
constexpr uint32_t PM1A_CNT = pc::ACPI_PM_BASE + pc::PM1_CNT_OFFSET;
constexpr uint32_t PM_TMR = pc::ACPI_PM_BASE + pc::PM_TMR_OFFSET;
constexpr uint8_t RTC_CENTURY_INDEX = 0x32;  // CMOS register holding the century
constexpr uint16_t NO_C2_LATENCY = 101;      // > 100 µs: C2 not supported
constexpr uint16_t NO_C3_LATENCY = 1001;     // > 1000 µs: C3 not supported

void put_fixed_blocks(TableBuilder& t) {
    t.u32(0);          // SMI_CMD: none, always in ACPI mode
    t.u8(0);           // ACPI_ENABLE
    t.u8(0);           // ACPI_DISABLE
    t.u8(0);           // S4BIOS_REQ
    t.u8(0);           // PSTATE_CNT
    t.u32(PM1A_EVT);
    t.u32(0);          // PM1b_EVT_BLK
    t.u32(PM1A_CNT);
    t.u32(0);          // PM1b_CNT_BLK
    t.u32(0);          // PM2_CNT_BLK
    t.u32(PM_TMR);
    t.u32(pc::GPE0_BASE);
    t.u32(0);          // GPE1_BLK
    t.u8(4);           // PM1_EVT_LEN
    t.u8(2);           // PM1_CNT_LEN
    t.u8(0);           // PM2_CNT_LEN
    t.u8(4);           // PM_TMR_LEN
    t.u8(uint8_t(pc::GPE0_LEN));
    t.u8(0);           // GPE1_BLK_LEN
    t.u8(0);           // GPE1_BASE
    t.u8(0);           // CST_CNT
}

void put_legacy_fields(TableBuilder& t) {
    t.u16(NO_C2_LATENCY);
    t.u16(NO_C3_LATENCY);
    t.u16(0);          // FLUSH_SIZE
    t.u16(0);          // FLUSH_STRIDE
    t.u8(0);           // DUTY_OFFSET
    t.u8(0);           // DUTY_WIDTH
    t.u8(0);           // DAY_ALRM
    t.u8(0);           // MON_ALRM
    t.u8(RTC_CENTURY_INDEX);
    t.u16(fadt::BOOT_LEGACY_DEVICES | fadt::BOOT_8042);
    t.u8(0);           // reserved
    t.u32(fadt::FLAG_WBINVD | fadt::FLAG_PROC_C1 | fadt::FLAG_SLP_BUTTON |
          fadt::FLAG_RESET_REG_SUP);
    t.gas(Gas::io(pc::RESET_CONTROL_PORT, 1, Gas::Byte));
    t.u8(pc::RESET_VALUE);
    t.u16(0);          // ARM_BOOT_ARCH
    t.u8(0);           // FADT minor version: ACPI 6.0
}

} // namespace

std::vector<uint8_t> build_fadt(uint64_t facs_addr, uint64_t dsdt_addr) {
    TableBuilder t("FACP", fadt::REVISION);
    t.u32(uint32_t(facs_addr));
    t.u32(uint32_t(dsdt_addr));
    t.u8(0);                       // reserved (INT_MODEL in ACPI 1.0)
    t.u8(0);                       // Preferred_PM_Profile: unspecified
    t.u16(uint16_t(pc::ACPI_SCI_IRQ));
    put_fixed_blocks(t);
    put_legacy_fields(t);
    t.u64(facs_addr);              // X_FIRMWARE_CTRL
    t.u64(dsdt_addr);              // X_DSDT
    t.gas(Gas::io(PM1A_EVT, 4));
    t.gas({});                     // X_PM1b_EVT_BLK
    t.gas(Gas::io(PM1A_CNT, 2));
    t.gas({});                     // X_PM1b_CNT_BLK
    t.gas({});                     // X_PM2_CNT_BLK
    t.gas(Gas::io(PM_TMR, 4));
    t.gas(Gas::io(pc::GPE0_BASE, pc::GPE0_LEN));
    t.gas({});                     // X_GPE1_BLK
    t.gas({});                     // SLEEP_CONTROL_REG (HW-reduced only)
    t.gas({});                     // SLEEP_STATUS_REG
    t.u64(0);                      // hypervisor vendor identity
    return t.finish();
}

std::vector<uint8_t> build_facs() {
    std::vector<uint8_t> f(64, 0);
    const uint32_t len = 64;
    std::memcpy(f.data(), "FACS", 4);
    std::memcpy(f.data() + 4, &len, 4);
    // Hardware signature, waking vectors, global lock and flags stay 0.
    f[32] = 2;  // version (ACPI 2.0 and later layout)
    return f;
}

} // namespace kestrel::acpi
