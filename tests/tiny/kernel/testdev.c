/* pc-testdev and pci-testdev register by register, printing every value
 * read, so that the output can be compared with QEMU's on the same kernel.
 * Nothing printed here depends on the memory map or the firmware. */
#include "tiny.h"

/* --- pc-testdev: 0xe0 data port, 0xe4 flush page, 0xe8 byte-wise data
 * port, 0x2000 + n IRQ line n, 0xff000000 64 KiB of memory --- */

static u8 pic_irr(u16 base) {
    outb(base, 0x0a); /* OCW3: read IRR */
    return inb(base);
}

static u8 flush_page[4096] __attribute__((aligned(4096)));

void test_pc_testdev(void) {
    outl(0xe0, 0x12345678);
    kprintf("PCT ioport l=%08x b0=%x b1=%x b2=%x b3=%x w0=%x w1=%x w2=%x\n", inl(0xe0), inb(0xe0), inb(0xe1),
            inb(0xe2), inb(0xe3), inw(0xe0), inw(0xe1), inw(0xe2));
    outb(0xe1, 0xab);
    outw(0xe2, 0xcdef);
    kprintf("PCT ioport partial l=%08x\n", inl(0xe0));
    outl(0xe8, 0x11223344);
    kprintf("PCT ioport-byte shared=%08x b=%x w=%x\n", inl(0xe0), inb(0xe9), inw(0xea));
    outw(0xe9, 0x5566);
    kprintf("PCT ioport-byte w@1 l=%08x via-e8=%08x\n", inl(0xe0), inl(0xe8));

    for (int i = 0; i < 4096; i++) flush_page[i] = (u8)(i * 7);
    outl(0xe4, (u32)flush_page);
    u32 sum = checksum(flush_page, 4096);
    flush_page[5] = 0x42;
    kprintf("PCT flush sum=%08x after-write=%x\n", sum, flush_page[5]);

    /* IRQ lines into the in-kernel 8259: masked, so only IRR changes. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    outb(0x2000 + 5, 1);
    u8 raised = pic_irr(0x20);
    outb(0x2000 + 5, 0);
    u8 lowered = pic_irr(0x20);
    outb(0x4d0, inb(0x4d0) | 0x20); /* ELCR: IRQ 5 level-triggered */
    outb(0x2000 + 5, 1);
    u8 level_raised = pic_irr(0x20);
    outb(0x2000 + 5, 0);
    u8 level_lowered = pic_irr(0x20);
    outb(0x4d0, inb(0x4d0) & ~0x20);
    outb(0x2000 + 10, 1);
    u8 slave = pic_irr(0xa0);
    outb(0x2000 + 10, 0);
    kprintf("PCT irq5 edge=%x/%x level=%x/%x irq10=%x\n", raised & 0x20, lowered & 0x20, level_raised & 0x20,
            level_lowered & 0x20, slave & 0x04);

    u32 mem = 0xff000000;
    mmio_write32(mem, 0xdeadbeef);
    mmio_write8(mem + 4, 0x11);
    mmio_write16(mem + 6, 0x2233);
    mmio_write32(mem + 0xfffc, 0xcafef00d);
    kprintf("PCT iomem l=%08x b1=%x w2=%x l4=%08x end=%08x b-end=%x\n", mmio_read32(mem), mmio_read8(mem + 1),
            mmio_read16(mem + 2), mmio_read32(mem + 4), mmio_read32(mem + 0xfffc), mmio_read8(mem + 0xffff));
}

/* --- pci-testdev (1b36:0005): BAR 0 memory, BAR 1 I/O; writing a test
 * number to offset 0 selects a test whose header the BAR then reads as
 * {u8 test, u8 width, pad, u32 offset, u8 data, pad, u32 count, name} --- */

#define MEM_BAR 0xd0000000u
#define IO_BAR 0x7000u

static u32 bar_size(u32 dev, u32 reg) {
    u32 old = pci_config_read(dev, reg);
    pci_config_write(dev, reg, 0xffffffff);
    u32 v = pci_config_read(dev, reg);
    pci_config_write(dev, reg, old);
    return v;
}

struct region {
    int io;
    u32 base;
};
static u8 rd8(struct region r, u32 off) { return r.io ? inb((u16)(r.base + off)) : mmio_read8(r.base + off); }
static u32 rd32(struct region r, u32 off) { return r.io ? inl((u16)(r.base + off)) : mmio_read32(r.base + off); }
static void wr8(struct region r, u32 off, u8 v) {
    if (r.io) outb((u16)(r.base + off), v);
    else mmio_write8(r.base + off, v);
}
static void wr16(struct region r, u32 off, u16 v) {
    if (r.io) outw((u16)(r.base + off), v);
    else mmio_write16(r.base + off, v);
}
static void wr32(struct region r, u32 off, u32 v) {
    if (r.io) outl((u16)(r.base + off), v);
    else mmio_write32(r.base + off, v);
}

static void run_one(struct region r, u32 test) {
    wr8(r, 0, (u8)test);
    u32 width = rd8(r, 1), offset = rd32(r, 4), data = rd8(r, 8), count = rd32(r, 12);
    char name[32];
    u32 n = 0;
    while (n + 1 < sizeof name && (name[n] = (char)rd8(r, 16 + n))) n++;
    name[n] = 0;
    kprintf("PCI %s test=%u read=%u width=%u offset=%x data=%x count=%u name=%s\n", r.io ? "io" : "mem", test,
            rd8(r, 0), width, offset, data, count, name);
    if (!offset) return;
    for (int i = 0; i < 4; i++) wr8(r, offset, (u8)data);
    u32 after_match = rd32(r, 12);
    wr8(r, offset, (u8)(data ^ 0xff));
    u32 after_other = rd32(r, 12);
    wr16(r, offset, (u16)data);
    u32 after_wide = rd32(r, 12);
    wr32(r, offset, data | 0xffffff00u);
    u32 after_long = rd32(r, 12);
    wr8(r, offset + 1, (u8)data);
    u32 after_next = rd32(r, 12);
    kprintf("PCI %s test=%u counts match4=%u other=%u word=%u long=%u next=%u tail=%x\n", r.io ? "io" : "mem", test,
            after_match, after_other, after_wide, after_long, after_next, rd8(r, 16 + n));
}

void test_pci_testdev(void) {
    u32 dev = 0;
    for (u32 d = 0; d < 32 && !dev; d++)
        if (pci_config_read(d, 0) == 0x00051b36) dev = d;
    if (!dev) {
        kprintf("PCI not found\n");
        return;
    }
    kprintf("PCI id=%08x class=%08x sub=%08x irq-pin=%x header=%x\n", pci_config_read(dev, 0), pci_config_read(dev, 8),
            pci_config_read(dev, 0x2c), (pci_config_read(dev, 0x3c) >> 8) & 0xff, (pci_config_read(dev, 0xc) >> 16) & 0xff);
    kprintf("PCI bars %08x %08x %08x %08x\n", bar_size(dev, 0x10), bar_size(dev, 0x14), bar_size(dev, 0x18),
            bar_size(dev, 0x1c));
    pci_config_write(dev, 0x10, MEM_BAR);
    pci_config_write(dev, 0x14, IO_BAR);
    pci_config_write(dev, 0x04, 0x3); /* I/O and memory decoding */
    struct region mem = {0, MEM_BAR}, io = {1, IO_BAR};
    for (u32 t = 0; t < 4; t++) run_one(mem, t);
    for (u32 t = 0; t < 4; t++) run_one(io, t);
    /* Moving the BAR moves the test with it. */
    wr8(io, 0, 2);
    pci_config_write(dev, 0x14, IO_BAR + 0x100);
    struct region moved = {1, IO_BAR + 0x100};
    wr16(moved, rd32(moved, 4), 0xfa);
    kprintf("PCI moved count=%u old=%x\n", rd32(moved, 12), inb(IO_BAR));
    wr8(moved, 0, 9); /* no such test: the header reads 0 */
    kprintf("PCI none read=%x/%x\n", rd8(moved, 1), rd32(moved, 4));
    if (bar_size(dev, 0x18)) { /* membar: 64-bit prefetchable, nothing behind it */
        pci_config_write(dev, 0x18, 0xd0100000u);
        pci_config_write(dev, 0x1c, 0);
        mmio_write32(0xd0100000u, 0x12345678);
        kprintf("PCI membar bar=%08x/%08x read=%08x\n", pci_config_read(dev, 0x18), pci_config_read(dev, 0x1c),
                mmio_read32(0xd0100000u));
    }
}

void test_debugcon(void) {
    kprintf("DEBUGCON readback=%x\n", inb(0xe9));
}

void test_pvpanic(void) {
    u32 events = inb(0x505);
    kprintf("PVPANIC events=%x\n", events);
    u32 what = cmdline_number("panic", 1);
    kprintf("PVPANIC write=%x\n", what);
    outb(0x505, (u8)what);
    kprintf("PVPANIC continued\n");
}
