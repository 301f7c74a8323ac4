/* The in-kernel PIT's lost-tick policy as a guest sees it. Interrupts stay
 * off (no IDT, no IRET: the 8259 is polled, which acknowledges as an
 * interrupt cycle does). The timer runs at 100 Hz; for 30 periods nobody
 * acknowledges. Then the 8259 is polled as fast as possible until 20 ticks
 * came or five more periods passed: with "delay" KVM delivers each missed
 * tick as soon as the one before is acknowledged (burst=20), with
 * "discard" they are gone and about a tick per period comes (burst <= 7,
 * more only when the host keeps the vCPU from running for whole periods). */
#include "tiny.h"

static u16 pit_count(void) {
    outb(0x43, 0x00);
    u16 lo = inb(0x40);
    return (u16)(lo | inb(0x40) << 8);
}

static int poll_irq0(void) {
    outb(0x20, 0x0c); /* OCW3: poll; the read acknowledges */
    return inb(0x20) == 0x80;
}

/* Ticks acknowledged until `max_ticks` or `periods` wrap-arounds of
 * channel 0 (it counts down); no polling when max_ticks is 0. */
static u32 run(u32 periods, u32 max_ticks) {
    u32 ticks = 0;
    u16 last = pit_count();
    while (periods && (max_ticks == 0 || ticks < max_ticks)) {
        if (max_ticks) ticks += (u32)poll_irq0();
        u16 now = pit_count();
        if (now > last) periods--;
        last = now;
    }
    return ticks;
}

void test_pit(void) {
    __asm__ volatile("cli");
    /* 8259s: vectors 0x20 and 0x28, cascade on IRQ 2, only IRQ 0 unmasked. */
    outb(0x20, 0x11), outb(0x21, 0x20), outb(0x21, 0x04), outb(0x21, 0x01);
    outb(0xa0, 0x11), outb(0xa1, 0x28), outb(0xa1, 0x02), outb(0xa1, 0x01);
    outb(0x21, 0xfe), outb(0xa1, 0xff);
    /* PIT channel 0, mode 2, 11932 counts: about 100 Hz. */
    outb(0x43, 0x34), outb(0x40, 11932 & 0xff), outb(0x40, 11932 >> 8);
    u32 warmup = run(3, 1000);
    run(30, 0);
    u32 burst = run(5, 20);
    kprintf("PIT warmup=%u burst=%u\n", warmup, burst);
    outb(0x21, 0xff);
}
