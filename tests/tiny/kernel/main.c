/* The tiny test kernel: prints what its loader handed it (multiboot info
 * or PVH start info), runs the tests named by "tests=..." on its command
 * line, then exits through isa-debug-exit with "exit=N" (default 0).
 * "quiet=1" prints nothing; "exitport=0xNN" moves the exit port. */
#include "tiny.h"

void multiboot_main(u32 magic, u32 info);
void pvh_main(u32 start_info);

static void run_tests(void) {
    if (cmdline_has_test("fwcfg")) test_fwcfg();
    if (cmdline_has_test("pctestdev")) test_pc_testdev();
    if (cmdline_has_test("pcitestdev")) test_pci_testdev();
    if (cmdline_has_test("pit")) test_pit();
    if (cmdline_has_test("debugcon")) test_debugcon();
    if (cmdline_has_test("pvpanic")) test_pvpanic();
    if (cmdline_has_test("netbench")) test_netbench();
    if (cmdline_has_test("cpus")) test_cpus();
    if (cmdline_has_test("pciscan")) test_pci_scan();
    if (cmdline_has_test("idetf")) test_ide_taskfile();
    if (cmdline_has_test("atapi")) test_atapi();
    if (cmdline_has_test("nmi")) test_nmi();
    if (cmdline_has_test("blkcrash")) test_blkcrash();
    if (cmdline_has_test("dumppattern")) test_dump_pattern();
    u32 status = cmdline_number("exit", 0);
    kprintf("TINY exit=%u\n", status);
    exit_with((u8)status);
}

static void setup(const char *cmdline) {
    cmdline_set(cmdline);
    use_debugcon = (int)cmdline_number("debugcon", 0);
    quiet = (int)cmdline_number("quiet", 0);
    exit_port = (u16)cmdline_number("exitport", 0xf4);
}

static void print_module(u32 index, u32 start, u32 end, const char *cmdline) {
    u32 kend = (u32)kernel_end;
    int overlaps = start < kend && end > 0x100000;
    kprintf("MB mod %u start=%x end=%x size=%u aligned=%u overlaps-kernel=%u sum=%08x cmdline=%s\n", index, start,
            end, end - start, (start & 0xfff) == 0, overlaps, checksum((const u8 *)start, end - start), cmdline);
}

void multiboot_main(u32 magic, u32 info) {
    const u32 *mbi = (const u32 *)info;
    setup(mbi[0] & 4 ? (const char *)mbi[4] : "");
    kprintf("TINY multiboot\n");
    kprintf("MB magic=%08x flags=%08x\n", magic, mbi[0]);
    kprintf("MB cmdline=%s\n", mbi[0] & 4 ? (const char *)mbi[4] : "");
    kprintf("MB loader=%s\n", mbi[0] & (1u << 9) ? (const char *)mbi[16] : "");
    kprintf("MB mem_lower=%u mem_upper=%u bootdev=%08x\n", mbi[1], mbi[2], mbi[3]);
    if (mbi[0] & (1u << 6)) {
        u32 at = mbi[12], end = mbi[12] + mbi[11];
        while (at < end) {
            const u32 *e = (const u32 *)at;
            u64 base = e[1] | (u64)e[2] << 32, len = e[3] | (u64)e[4] << 32;
            kprintf("MB mmap base=%X len=%X type=%u\n", base, len, e[5]);
            at += e[0] + 4;
        }
    }
    u32 count = mbi[0] & 8 ? mbi[5] : 0;
    kprintf("MB mods=%u\n", count);
    const u32 *mods = (const u32 *)mbi[6];
    for (u32 i = 0; i < count; i++) print_module(i, mods[4 * i], mods[4 * i + 1], (const char *)mods[4 * i + 2]);
    run_tests();
}

static int has_rsdp_signature(u32 addr) {
    const char *sig = "RSD PTR ";
    for (int i = 0; i < 8; i++)
        if (((const char *)addr)[i] != sig[i]) return 0;
    return 1;
}

void pvh_main(u32 start_info) {
    const u32 *si = (const u32 *)start_info;
    setup((const char *)si[6]);
    kprintf("TINY pvh\n");
    kprintf("PVH magic=%08x version=%u flags=%u\n", si[0], si[1], si[2]);
    kprintf("PVH cmdline=%s\n", (const char *)si[6]);
    kprintf("PVH rsdp=%x signature=%u\n", si[8], si[8] ? has_rsdp_signature(si[8]) : 0);
    u32 entries = si[1] >= 1 ? si[12] : 0;
    kprintf("PVH memmap entries=%u\n", entries);
    const u32 *map = (const u32 *)si[10];
    for (u32 i = 0; i < entries; i++) {
        const u32 *e = map + 6 * i;
        kprintf("PVH memmap base=%X len=%X type=%u\n", e[0] | (u64)e[1] << 32, e[2] | (u64)e[3] << 32, e[4]);
    }
    kprintf("PVH modules=%u\n", si[3]);
    const u32 *mods = (const u32 *)si[4];
    for (u32 i = 0; i < si[3]; i++) {
        u32 addr = mods[8 * i], size = mods[8 * i + 2];
        kprintf("PVH mod %u addr=%x size=%u aligned=%u sum=%08x\n", i, addr, size, (addr & 0xfff) == 0,
                checksum((const u8 *)addr, size));
    }
    run_tests();
}
