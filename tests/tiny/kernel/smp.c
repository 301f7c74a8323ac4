/* "tests=cpus": the vCPUs as the guest finds them. The firmware's view
 * (fw_cfg's CPU count, CMOS 0x5f), the MADT's local APIC entries, then
 * each enabled AP started with INIT/SIPI into a real-mode trampoline that
 * sets its APIC ID's bit and counts itself: "CPU online=N" is the BSP plus
 * the APs that really ran. */
#include "tiny.h"

#define TRAMPOLINE 0x70000u /* SIPI vector 0x70 */
#define LAPIC 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define ICR_PENDING (1u << 12)
#define ICR_INIT 0x4500u /* INIT, level assert */
#define ICR_SIPI 0x4600u
#define MAX_APIC_ID 256

/* Runs in each AP, copied to TRAMPOLINE: CS = 0x7000, IP = 0. */
__asm__(".pushsection .text\n"
        ".globl ap_trampoline, ap_trampoline_end, ap_count, ap_seen\n"
        ".code16\n"
        "ap_trampoline:\n"
        "  cli\n"
        "  mov %cs, %ax\n"
        "  mov %ax, %ds\n"
        "  mov $1, %eax\n"
        "  cpuid\n"
        "  shr $24, %ebx\n"
        "  lock btsl %ebx, ap_seen - ap_trampoline\n"
        "  lock incl ap_count - ap_trampoline\n"
        "1: hlt\n"
        "  jmp 1b\n"
        "  .balign 4\n"
        "ap_count: .long 0\n"
        "ap_seen: .fill 8, 4, 0\n"
        "ap_trampoline_end:\n"
        ".code32\n"
        ".popsection\n");
extern char ap_trampoline[], ap_trampoline_end[], ap_count[], ap_seen[];

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

static u32 own_apic_id(void) {
    u32 a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return b >> 24;
}

static void wait_cycles(u64 cycles) {
    u64 end = rdtsc() + cycles;
    while (rdtsc() < end) __asm__ volatile("pause");
}

static int signature_at(u32 addr, const char *sig, int len) {
    for (int i = 0; i < len; i++)
        if (((const char *)addr)[i] != sig[i]) return 0;
    return 1;
}

/* The RSDP where firmware puts it: the BIOS area 0xe0000-0xfffff. */
static u32 find_rsdp(void) {
    for (u32 a = 0xe0000; a < 0x100000; a += 16)
        if (signature_at(a, "RSD PTR ", 8)) return a;
    return 0;
}

static u32 find_madt(void) {
    u32 rsdp = find_rsdp();
    if (!rsdp) return 0;
    u32 rsdt = *(const u32 *)(rsdp + 16);
    u32 len = *(const u32 *)(rsdt + 4);
    for (u32 at = rsdt + 36; at + 4 <= rsdt + len; at += 4) {
        u32 table = *(const u32 *)at;
        if (signature_at(table, "APIC", 4)) return table;
    }
    return 0;
}

/* Prints each local APIC entry; fills `enabled` (one byte per APIC ID). */
static void read_madt(u8 *enabled) {
    u32 madt = find_madt();
    kprintf("CPU madt=%u\n", madt != 0);
    if (!madt) return;
    u32 end = madt + *(const u32 *)(madt + 4);
    for (u32 at = madt + 44; at + 2 <= end && ((const u8 *)at)[1] >= 2; at += ((const u8 *)at)[1]) {
        const u8 *e = (const u8 *)at;
        u32 id, on;
        if (e[0] == 0) id = e[3], on = *(const u32 *)(e + 4) & 1;
        else if (e[0] == 9) id = *(const u32 *)(e + 4), on = *(const u32 *)(e + 8) & 1;
        else continue;
        kprintf("CPU madt apic=%u enabled=%u\n", id, on);
        if (on && id < MAX_APIC_ID) enabled[id] = 1;
    }
}

static void send_ipi(u32 apic_id, u32 command) {
    mmio_write32(LAPIC + LAPIC_ICR_HIGH, apic_id << 24);
    mmio_write32(LAPIC + LAPIC_ICR_LOW, command);
    while (mmio_read32(LAPIC + LAPIC_ICR_LOW) & ICR_PENDING) __asm__ volatile("pause");
}

void test_cpus(void) {
    fwcfg_select(0x05); /* FW_CFG_NB_CPUS */
    u16 nb = 0;
    fwcfg_read(&nb, 2);
    outb(0x70, 0x5f);
    kprintf("CPU fwcfg-cpus=%u cmos-cpus=%u\n", nb, inb(0x71) + 1u);
    static u8 enabled[MAX_APIC_ID];
    read_madt(enabled);
    u32 bsp = own_apic_id(), started = 0;
    mem_copy((void *)TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    volatile u32 *count = (volatile u32 *)(TRAMPOLINE + (u32)(ap_count - ap_trampoline));
    volatile u32 *seen = (volatile u32 *)(TRAMPOLINE + (u32)(ap_seen - ap_trampoline));
    mmio_write32(LAPIC + LAPIC_SVR, mmio_read32(LAPIC + LAPIC_SVR) | 0x100);
    for (u32 id = 0; id < MAX_APIC_ID; id++) {
        if (!enabled[id] || id == bsp) continue;
        send_ipi(id, ICR_INIT);
        wait_cycles(10000000);
        send_ipi(id, ICR_SIPI | (TRAMPOLINE >> 12));
        wait_cycles(1000000);
        send_ipi(id, ICR_SIPI | (TRAMPOLINE >> 12));
        started++;
    }
    /* A loaded host may be slow to run the AP threads: wait up to ~10 s. */
    u64 deadline = rdtsc() + 20000000000ull;
    while (*count < started && rdtsc() < deadline) __asm__ volatile("pause");
    wait_cycles(100000000); /* an AP the MADT does not enable must not turn up either */
    kprintf("CPU bsp apic=%u\n", bsp);
    for (u32 id = 0; id < MAX_APIC_ID; id++)
        if (seen[id / 32] & (1u << (id % 32))) kprintf("CPU up apic=%u\n", id);
    kprintf("CPU online=%u\n", *count + 1);
}
