/* Every bus, every slot, as Linux's AMD GART probe scans them at boot:
 * an address write to 0xCF8 and a vendor ID read at 0xCFC per slot. Prints
 * how many slots answered and the vendor:device of bus 0's. */
#include "tiny.h"

void test_pci_scan(void) {
    u32 reads = 0, found = 0;
    for (u32 bus = 0; bus < 256; bus++) {
        for (u32 slot = 0; slot < 32; slot++) {
            outl(0xcf8, 0x80000000u | bus << 16 | slot << 11);
            u16 vendor = inw(0xcfc);
            reads++;
            if (vendor == 0xffff) continue;
            found++;
            outl(0xcf8, 0x80000000u | bus << 16 | slot << 11);
            kprintf("PCISCAN %x:%x id=%08x\n", bus, slot, inl(0xcfc));
        }
    }
    kprintf("PCISCAN reads=%u found=%u\n", reads, found);
}
