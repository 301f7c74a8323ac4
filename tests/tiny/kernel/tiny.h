/* The tiny test kernel's small library: port and MMIO access, output to
 * COM1 and the debug console, the exit device, strings. 32-bit,
 * freestanding, no libgcc (64-bit values are printed in hex only). */
#ifndef TINY_H
#define TINY_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned int size_t;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u8 mmio_read8(u32 a) { return *(volatile u8 *)a; }
static inline u16 mmio_read16(u32 a) { return *(volatile u16 *)a; }
static inline u32 mmio_read32(u32 a) { return *(volatile u32 *)a; }
static inline void mmio_write8(u32 a, u8 v) { *(volatile u8 *)a = v; }
static inline void mmio_write16(u32 a, u16 v) { *(volatile u16 *)a = v; }
static inline void mmio_write32(u32 a, u32 v) { *(volatile u32 *)a = v; }

/* Output: COM1, and the debug console (port 0xe9) when debugcon=1; none
 * at all with quiet=1 (the start-up benchmark). */
extern int use_debugcon;
extern int quiet;
void put_char(char c);
void put_str(const char *s);
void put_dec(u32 v);
void put_hex(u64 v);          /* no leading zeros */
void put_hex_width(u32 v, int digits);
/* %s %c %u %x (u32), %X (u64), %02x-style widths for %x */
void kprintf(const char *fmt, ...);

/* Ends the run through isa-debug-exit at `exit_port`; hangs if absent. */
extern u16 exit_port;
void exit_with(u8 status) __attribute__((noreturn));

/* PCI configuration space of bus 0 through ports 0xcf8/0xcfc; dev = slot << 3 | function. */
u32 pci_config_read(u32 dev, u32 reg);
void pci_config_write(u32 dev, u32 reg, u32 v);

size_t str_len(const char *s);
int str_eq(const char *a, const char *b);
int str_starts(const char *s, const char *prefix);
void mem_copy(void *dst, const void *src, size_t n);
void mem_set(void *dst, int c, size_t n);
u32 checksum(const u8 *p, u32 len); /* FNV-1a */

/* The kernel command line as key=value words; "" if the key is absent.
 * The value is copied into `out` (at most `size` - 1 bytes). */
void cmdline_set(const char *cmdline);
int cmdline_value(const char *key, char *out, size_t size);
u32 cmdline_number(const char *key, u32 fallback);
int cmdline_has_test(const char *name); /* "tests=a,b,c" */

/* The tests; each prints its lines. */
void test_fwcfg(void);
void test_pc_testdev(void);
void test_pci_testdev(void);
void test_pit(void);
void test_pvpanic(void);
void test_debugcon(void);
void test_netbench(void);
void test_cpus(void);
void test_pci_scan(void);
void test_ide_taskfile(void);
void test_nmi(void);
void test_atapi(void);
void test_blkcrash(void);
void test_dump_pattern(void);

/* fw_cfg access for the tests. */
void fwcfg_select(u16 key);
void fwcfg_read(void *buf, u32 len);             /* through the data port */
int fwcfg_dma_read(u16 key, void *buf, u32 len); /* 0, or the control word's error */
int fwcfg_find_file(const char *name, u16 *key, u32 *size);

extern char kernel_end[]; /* from the linker script */

#endif
