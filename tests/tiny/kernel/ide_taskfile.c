/* The IDE task file as a driver loads it before each command: registers
 * 1-6 of the primary channel written, then read back (the read delivers
 * writes a VMM may have queued). Prints a checksum of what came back. */
#include "tiny.h"

void test_ide_taskfile(void) {
    u32 sum = 0, rounds = 1000;
    for (u32 i = 0; i < rounds; i++) {
        outb(0x1f6, 0xe0);                 /* master, LBA */
        outb(0x1f1, (u8)i);                /* features */
        outb(0x1f2, (u8)(i >> 1));         /* sector count */
        outb(0x1f3, (u8)(i * 3));          /* LBA 0-7 */
        outb(0x1f4, (u8)(i * 5));          /* LBA 8-15 */
        outb(0x1f5, (u8)(i * 7));          /* LBA 16-23 */
        sum = sum * 31 + inb(0x1f2);
        sum = sum * 31 + inb(0x1f3);
        sum = sum * 31 + inb(0x1f4);
        sum = sum * 31 + inb(0x1f5);
        sum = sum * 31 + inb(0x1f6);
    }
    kprintf("IDETF rounds=%u sum=%08x\n", rounds, sum);
}
