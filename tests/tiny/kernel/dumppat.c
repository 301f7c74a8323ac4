/* For dump-guest-memory: writes a known pattern into guest RAM, says where,
 * then spins with known values in ESI and EDI (a dump's register notes must
 * show them) until the monitor quits the machine. */
#include "tiny.h"

#define PATTERN_ADDR 0x400000u
#define PATTERN_WORDS 16384u /* 64 KiB */

void test_dump_pattern(void) {
    volatile u32 *p = (volatile u32 *)PATTERN_ADDR;
    for (u32 i = 0; i < PATTERN_WORDS; i++) p[i] = (i * 2654435761u) ^ 0x4b455354u;
    kprintf("DUMP pattern at %x size %u ready\n", PATTERN_ADDR, PATTERN_WORDS * 4);
    __asm__ volatile("cli\n"
                     "mov $0x5e5e1234, %%esi\n"
                     "mov $0xd1d15678, %%edi\n"
                     "1: pause\n"
                     "jmp 1b\n"
                     : : : "esi", "edi", "memory");
}
