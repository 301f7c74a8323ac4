/* NMIs from the monitor (QMP inject-nmi, HMP nmi) as a guest sees them:
 * vector 2 of an IDT of its own, with interrupts off (which does not hold
 * an NMI back). The handler prints "NMI seen" and halts for good, for the
 * monitor to quit the machine; it never returns, because on a paravirtual
 * /dev/kvm (PVM) KVM emulates the IRET that ends an NMI and fails in
 * protected mode. */
#include "tiny.h"

void tiny_nmi_entry(void);
void tiny_nmi_seen(void);
__asm__(".text\n"
        ".globl tiny_nmi_entry\n"
        "tiny_nmi_entry:\n"
        "    call tiny_nmi_seen\n");

void tiny_nmi_seen(void) {
    kprintf("NMI seen\n");
    for (;;) __asm__ volatile("hlt");
}

struct gate {
    u16 offset_low, selector;
    u8 zero, type;
    u16 offset_high;
} __attribute__((packed));

static struct gate idt[3];

void test_nmi(void) {
    __asm__ volatile("cli");
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    u32 entry = (u32)tiny_nmi_entry;
    idt[2] = (struct gate){(u16)entry, cs, 0, 0x8e, (u16)(entry >> 16)};  /* 32-bit interrupt gate */
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (u32)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    kprintf("NMI ready\n");
    for (;;) __asm__ volatile("pause");
}
