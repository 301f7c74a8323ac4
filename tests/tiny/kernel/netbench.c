/* A minimal virtio-net driver for the datapath benchmark
 * (bench/tiny_netbench.py): the transitional virtio-net-pci function
 * (1af4:1000) through its legacy I/O BAR, one RX and one TX queue, no
 * interrupts (the driver polls the used rings and asks for no interrupts).
 * Buffers go to the device in batches (half the TX ring, a quarter of the
 * RX ring), so the guest's own work and its kicks (exits) per frame stay
 * small and the device's datapath is what limits the rate.
 *   tests=netbench mode=tx frames=N size=S   sends N frames of S bytes as
 *       fast as the TX ring allows, reaping used buffers
 *   tests=netbench mode=rx frames=N size=S   keeps the RX ring full and
 *       counts N frames from the host; a checked frame of another length,
 *       or not carrying the bench's EtherType and pattern, counts as bad
 * Lines: "NET ready", "NET start", "NET done frames=.. bytes=.. bad=..
 * disorder=.. tsc=..". The host times start..done; tsc is the guest's. */
#include "tiny.h"

#define IO_BASE 0x6000
#define REG_HOST_FEATURES 0x00
#define REG_GUEST_FEATURES 0x04
#define REG_QUEUE_PFN 0x08
#define REG_QUEUE_SIZE 0x0c
#define REG_QUEUE_SELECT 0x0e
#define REG_QUEUE_NOTIFY 0x10
#define REG_STATUS 0x12
#define REG_CONFIG 0x14 /* MSI-X off: the MAC starts here */

#define F_MRG_RXBUF (1u << 15)
#define F_ANY_LAYOUT (1u << 27)
#define HDR_LEN 12 /* virtio_net_hdr_mrg_rxbuf */
#define BUF_LEN 2048
#define MAX_QUEUE 1024
#define ETHERTYPE 0x88b5 /* IEEE local experimental */

#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

struct desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};
struct used_elem {
    u32 id;
    u32 len;
};
struct queue {
    u16 index, size;
    struct desc *desc;
    volatile u16 *avail; /* flags, idx, ring[size] */
    volatile u16 *used;  /* flags, idx, then used_elem[size] */
    u16 avail_idx, last_used;
    u8 *buffers;
};

static u8 ring_memory[2][0x9000] __attribute__((aligned(4096)));
static u8 buffer_memory[2][MAX_QUEUE * BUF_LEN] __attribute__((aligned(4096)));
static struct queue queues[2];

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void full_barrier(void) { __asm__ volatile("lock; addl $0,(%%esp)" ::: "memory", "cc"); }

static u32 pci_read(u32 dev, u32 reg) {
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    return inl(0xcfc);
}
static void pci_write(u32 dev, u32 reg, u32 v) {
    outl(0xcf8, 0x80000000u | dev << 11 | reg);
    outl(0xcfc, v);
}

static int find_nic(void) {
    for (u32 d = 0; d < 32; d++) {
        if (pci_read(d, 0) != 0x10001af4) continue;
        pci_write(d, 0x10, IO_BASE | 1);
        pci_write(d, 0x04, 0x5); /* I/O decoding, bus master */
        return 1;
    }
    return 0;
}

static int setup_queue(struct queue *q, u16 index) {
    outw(IO_BASE + REG_QUEUE_SELECT, index);
    u16 size = inw(IO_BASE + REG_QUEUE_SIZE);
    if (!size || size > MAX_QUEUE) return 0;
    u8 *mem = ring_memory[index];
    mem_set(mem, 0, sizeof ring_memory[index]);
    q->index = index;
    q->size = size;
    q->desc = (struct desc *)mem;
    q->avail = (volatile u16 *)(mem + 16 * size);
    u32 used_at = (16u * size + 6u + 2u * size + 4095u) & ~4095u;
    if (used_at + 6u + 8u * size > sizeof ring_memory[index]) return 0;
    q->used = (volatile u16 *)(mem + used_at);
    q->avail[0] = AVAIL_F_NO_INTERRUPT;
    q->buffers = buffer_memory[index];
    for (u16 i = 0; i < size; i++) q->desc[i].addr = (u32)(q->buffers + (u32)i * BUF_LEN);
    outl(IO_BASE + REG_QUEUE_PFN, (u32)mem >> 12);
    return 1;
}

static void publish_and_kick(struct queue *q) {
    barrier();
    q->avail[1] = q->avail_idx;
    full_barrier();
    if (!(q->used[0] & USED_F_NO_NOTIFY)) outw(IO_BASE + REG_QUEUE_NOTIFY, q->index);
}

static const volatile struct used_elem *used_elem(struct queue *q, u16 n) {
    return (const volatile struct used_elem *)(q->used + 2) + n % q->size;
}

/* Waits for the device to use buffers; returns how many it used, and
 * counts in `disorder` a batch whose last buffer is not the one posted in
 * that place (the fixed ring needs the in-order use both VMMs do). */
static u16 wait_used(struct queue *q, u32 *disorder) {
    u16 used_idx;
    while ((used_idx = q->used[1]) == q->last_used) __asm__ volatile("pause");
    barrier();
    if (used_elem(q, (u16)(used_idx - 1))->id != (u16)(used_idx - 1) % q->size) (*disorder)++;
    u16 count = (u16)(used_idx - q->last_used);
    q->last_used = used_idx;
    return count;
}

static void fill_frame(u8 *f, u32 size, u32 seq) {
    static const u8 header[14] = {0x02, 0, 0, 0, 0, 0x02, 0x52, 0x54, 0, 0x12, 0x34, 0x56, ETHERTYPE >> 8, ETHERTYPE & 0xff};
    mem_copy(f, header, 14);
    for (u32 i = 14; i < size; i++) f[i] = (u8)(i + seq);
}

/* The avail ring holds descriptor i in place i for good: posting is one
 * store of avail->idx per batch, whatever its size. */
static void fixed_ring(struct queue *q, u32 len, u16 flags) {
    for (u16 i = 0; i < q->size; i++) {
        q->desc[i].len = len;
        q->desc[i].flags = flags;
        q->avail[2 + i] = i;
    }
}

static void transmit(struct queue *q, u32 frames, u32 size, u32 *done, u32 *disorder) {
    for (u16 i = 0; i < q->size; i++) {
        u8 *b = q->buffers + (u32)i * BUF_LEN;
        mem_set(b, 0, HDR_LEN);
        fill_frame(b + HDR_LEN, size, i);
    }
    fixed_ring(q, HDR_LEN + size, 0);
    u32 sent = 0, completed = 0;
    while (completed < frames) {
        /* Refill in batches of half a ring (or the rest): one kick per
         * batch at most, as a driver with a queue of frames does. */
        u32 room = q->size - (u16)(q->avail_idx - q->last_used), left = frames - sent;
        u32 batch = room < left ? room : left;
        if (batch && (batch >= q->size / 2u || batch == left)) {
            q->avail_idx = (u16)(q->avail_idx + batch);
            sent += batch;
            publish_and_kick(q);
        }
        completed += wait_used(q, disorder);
    }
    *done = completed;
}

static int frame_ok(const u8 *f, u32 len, u32 size) {
    if (len != size || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xff)) return 0;
    u8 seq = (u8)(f[14] - 14); /* fill_frame's pattern: byte i is i + seq */
    return f[size - 1] == (u8)(size - 1 + seq);
}

/* Every guest instruction that touches memory costs microseconds on a
 * paravirtual KVM (ring 0 is emulated), so the driver checks the last
 * frame of every batch the device hands over, not each one. */
static void receive(struct queue *q, u32 frames, u32 size, u32 *got, u32 *bad, u32 *disorder) {
    fixed_ring(q, BUF_LEN, DESC_F_WRITE);
    q->avail_idx = q->size;
    publish_and_kick(q);
    kprintf("NET ready\n");
    u32 n = 0, wrong = 0, pending = 0;
    while (n < frames) {
        u16 count = wait_used(q, disorder);
        if (n == 0) kprintf("NET start\n");
        const volatile struct used_elem *e = used_elem(q, (u16)(q->last_used - 1));
        const u8 *f = q->buffers + (e->id % q->size) * BUF_LEN;
        u32 len = e->len > HDR_LEN ? e->len - HDR_LEN : 0;
        if (!frame_ok(f + HDR_LEN, len, size) || *(const u16 *)(f + 10) != 1) {
            if (!wrong++)
                kprintf("NET bad frame %u len=%u type=%02x%02x buffers=%u\n", n, len, f[HDR_LEN + 12],
                        f[HDR_LEN + 13], *(const u16 *)(f + 10));
        }
        n += count;
        /* Buffers go back in batches of a quarter ring: one kick each. */
        pending += count;
        if (pending >= q->size / 4u) {
            q->avail_idx = (u16)(q->avail_idx + pending);
            publish_and_kick(q);
            pending = 0;
        }
    }
    *got = n;
    *bad = wrong;
}

void test_netbench(void) {
    char mode[8];
    cmdline_value("mode", mode, sizeof mode);
    u32 frames = cmdline_number("frames", 100000), size = cmdline_number("size", 1514);
    if (size < 60 || size + HDR_LEN > BUF_LEN || !find_nic()) {
        kprintf("NET no nic or bad size=%u\n", size);
        return;
    }
    outb(IO_BASE + REG_STATUS, 0);
    outb(IO_BASE + REG_STATUS, 1 | 2); /* ACKNOWLEDGE, DRIVER */
    u32 features = inl(IO_BASE + REG_HOST_FEATURES);
    if (!(features & F_MRG_RXBUF)) {
        kprintf("NET no mrg_rxbuf features=%08x\n", features);
        return;
    }
    outl(IO_BASE + REG_GUEST_FEATURES, features & (F_MRG_RXBUF | F_ANY_LAYOUT));
    if (!setup_queue(&queues[0], 0) || !setup_queue(&queues[1], 1)) {
        kprintf("NET bad queue size\n");
        return;
    }
    outb(IO_BASE + REG_STATUS, 1 | 2 | 4); /* DRIVER_OK */
    kprintf("NET mac=%02x:%02x:%02x:%02x:%02x:%02x rxq=%u txq=%u mode=%s frames=%u size=%u\n",
            inb(IO_BASE + REG_CONFIG), inb(IO_BASE + REG_CONFIG + 1), inb(IO_BASE + REG_CONFIG + 2),
            inb(IO_BASE + REG_CONFIG + 3), inb(IO_BASE + REG_CONFIG + 4), inb(IO_BASE + REG_CONFIG + 5),
            queues[0].size, queues[1].size, mode, frames, size);
    u32 done = 0, bad = 0, disorder = 0;
    u64 t0 = rdtsc();
    if (str_eq(mode, "rx")) {
        receive(&queues[0], frames, size, &done, &bad, &disorder);
    } else {
        kprintf("NET start\n");
        transmit(&queues[1], frames, size, &done, &disorder);
    }
    u64 t1 = rdtsc();
    kprintf("NET done frames=%u bytes=%X bad=%u disorder=%u tsc=%X\n", done, (u64)done * size, bad, disorder,
            t1 - t0);
    outb(IO_BASE + REG_STATUS, 0);
}
