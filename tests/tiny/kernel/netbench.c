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
#include "virtio_legacy.h"

#define IO_BASE 0x6000
#define F_MRG_RXBUF (1u << 15)
#define F_ANY_LAYOUT (1u << 27)
#define HDR_LEN 12 /* virtio_net_hdr_mrg_rxbuf */
#define BUF_LEN 2048
#define MAX_QUEUE 1024
#define ETHERTYPE 0x88b5 /* IEEE local experimental */

struct queue {
    struct virtqueue vq;
    u8 *buffers;
};

static u8 ring_memory[2][VIRTQ_RING_MEMORY] __attribute__((aligned(4096)));
static u8 buffer_memory[2][MAX_QUEUE * BUF_LEN] __attribute__((aligned(4096)));
static struct queue queues[2];

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

static int setup_queue(struct queue *q, u16 index) {
    if (!virtqueue_setup(&q->vq, IO_BASE, index, ring_memory[index], MAX_QUEUE)) return 0;
    q->buffers = buffer_memory[index];
    for (u16 i = 0; i < q->vq.size; i++) q->vq.desc[i].addr = (u32)(q->buffers + (u32)i * BUF_LEN);
    return 1;
}

/* Waits for the device to use buffers; returns how many it used, and
 * counts in `disorder` a batch whose last buffer is not the one posted in
 * that place (the fixed ring needs the in-order use both VMMs do). */
static u16 wait_used(struct virtqueue *q, u32 *disorder) {
    u16 used_idx;
    while ((used_idx = q->used[1]) == q->last_used) __asm__ volatile("pause");
    compiler_barrier();
    if (virtqueue_used_elem(q, (u16)(used_idx - 1))->id != (u16)(used_idx - 1) % q->size) (*disorder)++;
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
static void fixed_ring(struct virtqueue *q, u32 len, u16 flags) {
    for (u16 i = 0; i < q->size; i++) {
        q->desc[i].len = len;
        q->desc[i].flags = flags;
        q->avail[2 + i] = i;
    }
}

static void transmit(struct queue *q, u32 frames, u32 size, u32 *done, u32 *disorder) {
    struct virtqueue *v = &q->vq;
    for (u16 i = 0; i < v->size; i++) {
        u8 *b = q->buffers + (u32)i * BUF_LEN;
        mem_set(b, 0, HDR_LEN);
        fill_frame(b + HDR_LEN, size, i);
    }
    fixed_ring(v, HDR_LEN + size, 0);
    u32 sent = 0, completed = 0;
    while (completed < frames) {
        /* Refill in batches of half a ring (or the rest): one kick per
         * batch at most, as a driver with a queue of frames does. */
        u32 room = v->size - (u16)(v->avail_idx - v->last_used), left = frames - sent;
        u32 batch = room < left ? room : left;
        if (batch && (batch >= v->size / 2u || batch == left)) {
            v->avail_idx = (u16)(v->avail_idx + batch);
            sent += batch;
            virtqueue_publish_and_kick(v);
        }
        completed += wait_used(v, disorder);
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
    struct virtqueue *v = &q->vq;
    fixed_ring(v, BUF_LEN, VIRTQ_DESC_F_WRITE);
    v->avail_idx = v->size;
    virtqueue_publish_and_kick(v);
    kprintf("NET ready\n");
    u32 n = 0, wrong = 0, pending = 0;
    while (n < frames) {
        u16 count = wait_used(v, disorder);
        if (n == 0) kprintf("NET start\n");
        const volatile struct virtq_used_elem *e = virtqueue_used_elem(v, (u16)(v->last_used - 1));
        const u8 *f = q->buffers + (e->id % v->size) * BUF_LEN;
        u32 len = e->len > HDR_LEN ? e->len - HDR_LEN : 0;
        if (!frame_ok(f + HDR_LEN, len, size) || *(const u16 *)(f + 10) != 1) {
            if (!wrong++)
                kprintf("NET bad frame %u len=%u type=%02x%02x buffers=%u\n", n, len, f[HDR_LEN + 12],
                        f[HDR_LEN + 13], *(const u16 *)(f + 10));
        }
        n += count;
        /* Buffers go back in batches of a quarter ring: one kick each. */
        pending += count;
        if (pending >= v->size / 4u) {
            v->avail_idx = (u16)(v->avail_idx + pending);
            virtqueue_publish_and_kick(v);
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
    if (size < 60 || size + HDR_LEN > BUF_LEN || !virtio_legacy_find(0x10001af4, IO_BASE)) {
        kprintf("NET no nic or bad size=%u\n", size);
        return;
    }
    outb(IO_BASE + VIRTIO_REG_STATUS, 0);
    outb(IO_BASE + VIRTIO_REG_STATUS, VIRTIO_STATUS_DRIVER_UP);
    u32 features = inl(IO_BASE + VIRTIO_REG_HOST_FEATURES);
    if (!(features & F_MRG_RXBUF)) {
        kprintf("NET no mrg_rxbuf features=%08x\n", features);
        return;
    }
    outl(IO_BASE + VIRTIO_REG_GUEST_FEATURES, features & (F_MRG_RXBUF | F_ANY_LAYOUT));
    if (!setup_queue(&queues[0], 0) || !setup_queue(&queues[1], 1)) {
        kprintf("NET bad queue size\n");
        return;
    }
    outb(IO_BASE + VIRTIO_REG_STATUS, VIRTIO_STATUS_DRIVER_UP | VIRTIO_STATUS_DRIVER_OK);
    kprintf("NET mac=%02x:%02x:%02x:%02x:%02x:%02x rxq=%u txq=%u mode=%s frames=%u size=%u\n",
            inb(IO_BASE + VIRTIO_REG_CONFIG), inb(IO_BASE + VIRTIO_REG_CONFIG + 1), inb(IO_BASE + VIRTIO_REG_CONFIG + 2),
            inb(IO_BASE + VIRTIO_REG_CONFIG + 3), inb(IO_BASE + VIRTIO_REG_CONFIG + 4), inb(IO_BASE + VIRTIO_REG_CONFIG + 5),
            queues[0].vq.size, queues[1].vq.size, mode, frames, size);
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
    outb(IO_BASE + VIRTIO_REG_STATUS, 0);
}
