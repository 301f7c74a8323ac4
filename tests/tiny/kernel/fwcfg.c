/* fw_cfg as firmware reads it: the selector and data ports, the DMA
 * interface, the file directory; prints the items the pc machine has. */
#include "tiny.h"

#define FW_PORT 0x510
#define FW_DATA 0x511
#define FW_DMA 0x514
#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10

static u32 bswap32(u32 v) { return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24); }

struct dma_access {
    u32 control, length;
    u32 address_high, address_low; /* big-endian u64 */
} __attribute__((aligned(16)));

static struct dma_access dma;

void fwcfg_select(u16 key) { outw(FW_PORT, key); }

void fwcfg_read(void *buf, u32 len) {
    u8 *p = buf;
    while (len--) *p++ = inb(FW_DATA);
}

static u32 dma_run(u32 control, void *buf, u32 len) {
    dma.control = bswap32(control);
    dma.length = bswap32(len);
    dma.address_high = 0;
    dma.address_low = bswap32((u32)buf);
    outl(FW_DMA, 0);
    outl(FW_DMA + 4, bswap32((u32)&dma));
    return bswap32(*(volatile u32 *)&dma.control);
}

int fwcfg_dma_read(u16 key, void *buf, u32 len) {
    return (int)dma_run((u32)key << 16 | DMA_SELECT | DMA_READ, buf, len);
}

static u32 read_u32(u16 key) {
    u32 v = 0;
    fwcfg_select(key);
    fwcfg_read(&v, 4);
    return v;
}

static u16 read_u16(u16 key) {
    u16 v = 0;
    fwcfg_select(key);
    fwcfg_read(&v, 2);
    return v;
}

/* The file directory: be32 count, then {be32 size, be16 key, u16, name[56]}. */
struct fw_file {
    u32 size;
    u16 key;
    char name[56];
};

static u32 read_directory(struct fw_file *files, u32 max) {
    u32 count;
    fwcfg_select(0x19);
    fwcfg_read(&count, 4);
    count = bswap32(count);
    for (u32 i = 0; i < count && i < max; i++) {
        struct {
            u32 size;
            u16 select, reserved;
            char name[56];
        } f;
        fwcfg_read(&f, sizeof f);
        files[i].size = bswap32(f.size);
        files[i].key = (u16)((f.select >> 8) | (f.select << 8));
        mem_copy(files[i].name, f.name, sizeof f.name);
        files[i].name[55] = 0;
    }
    return count < max ? count : max;
}

static struct fw_file files[64];

int fwcfg_find_file(const char *name, u16 *key, u32 *size) {
    u32 count = read_directory(files, 64);
    for (u32 i = 0; i < count; i++) {
        if (!str_eq(files[i].name, name)) continue;
        *key = files[i].key;
        *size = files[i].size;
        return 1;
    }
    return 0;
}

static void print_files(void) {
    u32 count = read_directory(files, 64);
    kprintf("FW files=%u\n", count);
    for (u32 i = 0; i < count; i++) kprintf("FW file name=%s size=%u key=%x\n", files[i].name, files[i].size, files[i].key);
}

static u8 buffer[4096];
static u8 other[4096];

/* Each opt/ file read both ways; printed (as text) if short. */
static void print_opt_files(void) {
    u32 count = read_directory(files, 64);
    for (u32 i = 0; i < count; i++) {
        if (!str_starts(files[i].name, "opt/")) continue;
        u32 n = files[i].size < sizeof buffer - 1 ? files[i].size : sizeof buffer - 1;
        mem_set(buffer, 0, sizeof buffer);
        mem_set(other, 0, sizeof other);
        fwcfg_select(files[i].key);
        fwcfg_read(buffer, n);
        int err = fwcfg_dma_read(files[i].key, other, n);
        int same = 1;
        for (u32 j = 0; j < n; j++) same &= buffer[j] == other[j];
        kprintf("FW opt name=%s size=%u sum=%08x dma-error=%u same=%u text=%s\n", files[i].name, files[i].size,
                checksum(buffer, n), err, same, (char *)buffer);
    }
}

static void print_e820(void) {
    u16 key;
    u32 size;
    if (!fwcfg_find_file("etc/e820", &key, &size)) return;
    fwcfg_dma_read(key, buffer, size < sizeof buffer ? size : sizeof buffer);
    for (u32 at = 0; at + 20 <= size && at + 20 <= sizeof buffer; at += 20) {
        const u32 *e = (const u32 *)(buffer + at);
        kprintf("FW e820 base=%X len=%X type=%u\n", e[0] | (u64)e[1] << 32, e[2] | (u64)e[3] << 32, e[4]);
    }
}

static void check_dma(void) {
    /* A read past an item's end gives zeros; skip moves on; writes to an
     * item the guest may not write fail. */
    mem_set(buffer, 0xaa, 16);
    int err = fwcfg_dma_read(0x00, buffer, 16);
    int zeros = 1;
    for (int i = 4; i < 16; i++) zeros &= buffer[i] == 0;
    kprintf("FW dma-past-end error=%u sig=%c%c%c%c zeros=%u\n", err, buffer[0], buffer[1], buffer[2], buffer[3], zeros);
    fwcfg_select(0x00);
    u32 skip_err = dma_run(DMA_SKIP, 0, 2);
    kprintf("FW dma-skip error=%u next=%c\n", skip_err, inb(FW_DATA));
    u32 write_err = dma_run((u32)0x00 << 16 | DMA_SELECT | DMA_WRITE, buffer, 4);
    kprintf("FW dma-write-readonly error=%u\n", write_err & DMA_ERROR);
    fwcfg_select(0x3fff);
    kprintf("FW invalid-key byte=%u\n", inb(FW_DATA));
}

void test_fwcfg(void) {
    char sig[5] = {0};
    fwcfg_select(0x00);
    fwcfg_read(sig, 4);
    kprintf("FW signature=%s id=%08x\n", sig, read_u32(0x01));
    char dma_sig[9] = {0};
    for (int i = 0; i < 8; i++) dma_sig[i] = (char)inb(FW_DMA + i);
    kprintf("FW dma-signature=%s\n", dma_sig);
    u64 ram = 0;
    fwcfg_select(0x03);
    fwcfg_read(&ram, 8);
    kprintf("FW cpus=%u max-cpus=%u ram=%X nographic=%u irq0-override=%u\n", read_u16(0x05), read_u16(0x0f), ram,
            read_u16(0x04), read_u32(0x8002));
    u8 uuid[16];
    fwcfg_select(0x02);
    fwcfg_read(uuid, 16);
    kprintf("FW uuid=");
    for (int i = 0; i < 16; i++) kprintf("%2x", uuid[i]);
    kprintf("\n");
    kprintf("FW kernel addr=%x size=%u entry=%x\n", read_u32(0x07), read_u32(0x08), read_u32(0x10));
    kprintf("FW initrd addr=%x size=%u\n", read_u32(0x0a), read_u32(0x0b));
    u32 cmdline_size = read_u32(0x14);
    mem_set(buffer, 0, 256);
    fwcfg_select(0x15);
    fwcfg_read(buffer, cmdline_size < 255 ? cmdline_size : 255);
    kprintf("FW cmdline size=%u data=%s\n", cmdline_size, (char *)buffer);
    print_files();
    print_e820();
    print_opt_files();
    check_dma();
}
