/* ATAPI packet commands to the CD-ROM on the secondary master, by PIO with
 * interrupts off (nIEN), as a driver sends them: each reply's bytes, or the
 * sense key after a check condition, for the harness to compare with QEMU
 * 7.2's. TEST UNIT READY first, until the unit attention of a new medium
 * (or a BIOS that already took it) is gone. */
#include "tiny.h"

#define CMD 0x170
#define CTL 0x376
#define ST_BSY 0x80
#define ST_DRQ 0x08
#define ST_ERR 0x01

static u8 reply[2048 * 2];

static u8 wait_ready(void) {
    u8 s = ST_BSY;
    for (u32 i = 0; i < 50000000 && (s & ST_BSY); i++) s = inb(CMD + 7);
    return s;
}

/* Sends a 12-byte packet; returns the bytes read (-1 after a check
 * condition, its sense key in *sense_key). */
static int packet(const u8 cdb[12], u16 limit, u8 *sense_key) {
    outb(CMD + 6, 0xa0);
    wait_ready();
    outb(CMD + 1, 0);                             /* PIO */
    outb(CMD + 4, (u8)limit), outb(CMD + 5, (u8)(limit >> 8));
    outb(CMD + 7, 0xa0);                          /* PACKET */
    u8 s = wait_ready();
    if (!(s & ST_DRQ)) return *sense_key = 0xff, -1;
    for (int i = 0; i < 6; i++) outw(CMD, (u16)(cdb[2 * i] | cdb[2 * i + 1] << 8));
    u32 got = 0;
    for (;;) {
        s = wait_ready();
        if (s & ST_ERR) return *sense_key = (u8)(inb(CMD + 1) >> 4), -1;
        if (!(s & ST_DRQ)) return (int)got;
        u32 n = inb(CMD + 4) | (u32)inb(CMD + 5) << 8;
        for (u32 i = 0; i + 1 < n + 1; i += 2) {
            u16 w = inw(CMD);
            if (got + 2 <= sizeof reply) reply[got] = (u8)w, reply[got + 1] = (u8)(w >> 8);
            got += 2;
        }
    }
}

static void show(const char *name, const u8 cdb[12], u16 limit) {
    u8 key = 0;
    int n = packet(cdb, limit, &key);
    if (n < 0) {
        kprintf("ATAPI %s: check condition, sense key %x\n", name, key);
        return;
    }
    kprintf("ATAPI %s: %u bytes", name, (u32)n);
    if (n > 2048) {
        kprintf(" sum=%08x\n", checksum(reply, (u32)n));
        return;
    }
    for (int i = 0; i < n && i < 96; i++) kprintf(i % 4 ? "%02x" : " %02x", reply[i]);
    kprintf("\n");
}

void test_atapi(void) {
    outb(CTL, 0x02);                              /* nIEN: no interrupts */
    static const u8 tur[12] = {0x00};
    u8 key = 0;
    for (int i = 0; i < 4 && packet(tur, 0, &key) < 0; i++) continue;
    show("TEST UNIT READY", tur, 0);
    show("INQUIRY", (const u8[12]){0x12, 0, 0, 0, 36}, 36);
    show("REQUEST SENSE", (const u8[12]){0x03, 0, 0, 0, 18}, 18);
    show("READ CAPACITY", (const u8[12]){0x25}, 8);
    show("READ TOC lba", (const u8[12]){0x43, 0, 0, 0, 0, 0, 0, 0, 12}, 12);
    show("READ TOC msf", (const u8[12]){0x43, 0x02, 0, 0, 0, 0, 0, 0, 20}, 20);
    show("READ TOC from the lead-out", (const u8[12]){0x43, 0, 0, 0, 0, 0, 0xaa, 0, 12}, 12);
    show("READ TOC from track 2", (const u8[12]){0x43, 0, 0, 0, 0, 0, 2, 0, 12}, 12);
    show("READ TOC sessions", (const u8[12]){0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40}, 12);
    show("READ TOC raw", (const u8[12]){0x43, 0, 0, 0, 0, 0, 0, 0, 64, 0x80}, 64);
    show("READ TOC raw msf", (const u8[12]){0x43, 0x02, 0, 0, 0, 0, 0, 0, 64, 0x80}, 64);
    show("READ TOC format 3", (const u8[12]){0x43, 0, 0, 0, 0, 0, 0, 0, 64, 0xc0}, 64);
    show("GET CONFIGURATION", (const u8[12]){0x46, 0, 0, 0, 0, 0, 0, 0, 64}, 64);
    show("GET EVENT STATUS media", (const u8[12]){0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8}, 8);
    show("MODE SENSE capabilities", (const u8[12]){0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 36}, 36);
    show("MODE SENSE error recovery", (const u8[12]){0x5a, 0, 0x01, 0, 0, 0, 0, 0, 16}, 16);
    show("MODE SENSE audio control", (const u8[12]){0x5a, 0, 0x0e, 0, 0, 0, 0, 0, 32}, 32);
    show("MODE SENSE all pages", (const u8[12]){0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 64}, 64);
    show("MODE SENSE changeable", (const u8[12]){0x5a, 0, 0x6a, 0, 0, 0, 0, 0, 36}, 36);
    show("MODE SENSE saved", (const u8[12]){0x5a, 0, 0xea, 0, 0, 0, 0, 0, 36}, 36);
    show("REQUEST SENSE twice", (const u8[12]){0x03, 0, 0, 0, 18}, 18);
    show("REQUEST SENSE twice", (const u8[12]){0x03, 0, 0, 0, 18}, 18);
    show("GET CONFIGURATION from feature 1", (const u8[12]){0x46, 0, 0, 1, 0, 0, 0, 0, 64}, 64);
    show("READ DISC INFORMATION type 1", (const u8[12]){0x51, 1, 0, 0, 0, 0, 0, 0, 34}, 34);
    show("READ DISC INFORMATION", (const u8[12]){0x51, 0, 0, 0, 0, 0, 0, 0, 34}, 34);
    show("MECHANISM STATUS", (const u8[12]){0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8}, 8);
    show("READ(10) 2 blocks", (const u8[12]){0x28, 0, 0, 0, 0, 1, 0, 0, 2}, 4096);
    show("READ(10) past the end", (const u8[12]){0x28, 0, 0, 0x10, 0, 0, 0, 0, 1}, 2048);
    show("REQUEST SENSE after", (const u8[12]){0x03, 0, 0, 0, 18}, 18);
    show("unknown opcode 0xff", (const u8[12]){0xff}, 8);
    show("PREVENT MEDIUM REMOVAL", (const u8[12]){0x1e, 0, 0, 0, 1}, 0);
    show("MODE SENSE capabilities locked", (const u8[12]){0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 36}, 36);
    show("START STOP UNIT eject while locked", (const u8[12]){0x1b, 0, 0, 0, 2}, 0);
    show("REQUEST SENSE locked", (const u8[12]){0x03, 0, 0, 0, 18}, 18);
    show("ALLOW MEDIUM REMOVAL", (const u8[12]){0x1e, 0, 0, 0, 0}, 0);
}
