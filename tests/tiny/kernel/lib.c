#include "tiny.h"

#include <stdarg.h>

int use_debugcon;
int quiet;
u16 exit_port = 0xf4;

void put_char(char c) {
    if (quiet) return;
    if (c == '\n') put_char('\r');
    for (int i = 0; i < 100000 && !(inb(0x3f8 + 5) & 0x20); i++) {
    }
    outb(0x3f8, (u8)c);
    if (use_debugcon && c != '\r') outb(0xe9, (u8)c);
}

void put_str(const char *s) {
    while (*s) put_char(*s++);
}

void put_dec(u32 v) {
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) put_char(buf[--n]);
}

void put_hex_width(u32 v, int digits) {
    for (int i = digits - 1; i >= 0; i--) put_char("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

void put_hex(u64 v) {
    int started = 0;
    for (int i = 15; i >= 0; i--) {
        unsigned d = (unsigned)(v >> (4 * i)) & 15;
        if (d || started || i == 0) {
            put_char("0123456789abcdef"[d]);
            started = 1;
        }
    }
}

void kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put_char(*fmt);
            continue;
        }
        int width = 0;
        fmt++;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's': put_str(va_arg(ap, const char *)); break;
        case 'c': put_char((char)va_arg(ap, int)); break;
        case 'u': put_dec(va_arg(ap, u32)); break;
        case 'x': {
            u32 v = va_arg(ap, u32);
            if (width) put_hex_width(v, width);
            else put_hex(v);
            break;
        }
        case 'X': put_hex(va_arg(ap, u64)); break;
        default: put_char(*fmt);
        }
    }
    va_end(ap);
}

void exit_with(u8 status) {
    outb(exit_port, status);
    for (;;) __asm__ volatile("cli; hlt");
}

size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int str_eq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

int str_starts(const char *s, const char *prefix) {
    while (*prefix)
        if (*s++ != *prefix++) return 0;
    return 1;
}

u32 pci_config_read(u32 dev, u32 reg) {
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    return inl(0xcfc);
}

void pci_config_write(u32 dev, u32 reg, u32 v) {
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    outl(0xcfc, v);
}

void mem_copy(void *dst, const void *src, size_t n) {
    u8 *d = dst;
    const u8 *s = src;
    while (n--) *d++ = *s++;
}

void mem_set(void *dst, int c, size_t n) {
    u8 *d = dst;
    while (n--) *d++ = (u8)c;
}

u32 checksum(const u8 *p, u32 len) {
    u32 h = 2166136261u;
    for (u32 i = 0; i < len; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static char cmdline_copy[1024];

void cmdline_set(const char *cmdline) {
    size_t n = 0;
    while (cmdline && cmdline[n] && n + 1 < sizeof cmdline_copy) {
        cmdline_copy[n] = cmdline[n];
        n++;
    }
    cmdline_copy[n] = 0;
}

int cmdline_value(const char *key, char *out, size_t size) {
    size_t klen = str_len(key);
    const char *p = cmdline_copy;
    while (*p) {
        while (*p == ' ') p++;
        const char *word = p;
        while (*p && *p != ' ') p++;
        if ((size_t)(p - word) > klen && str_starts(word, key) && word[klen] == '=') {
            size_t n = 0;
            for (const char *v = word + klen + 1; v < p && n + 1 < size; v++) out[n++] = *v;
            out[n] = 0;
            return 1;
        }
    }
    if (size) out[0] = 0;
    return 0;
}

u32 cmdline_number(const char *key, u32 fallback) {
    char buf[16];
    if (!cmdline_value(key, buf, sizeof buf)) return fallback;
    u32 v = 0;
    const char *p = buf;
    int base = 10;
    if (p[0] == '0' && p[1] == 'x') base = 16, p += 2;
    for (; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0 || d >= base) break;
        v = v * (u32)base + (u32)d;
    }
    return v;
}

int cmdline_has_test(const char *name) {
    char list[256];
    if (!cmdline_value("tests", list, sizeof list)) return 0;
    size_t n = str_len(name);
    for (const char *p = list; *p;) {
        const char *item = p;
        while (*p && *p != ',') p++;
        if ((size_t)(p - item) == n && str_starts(item, name)) return 1;
        if (*p) p++;
    }
    return 0;
}
