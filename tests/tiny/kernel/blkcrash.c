/* The guest side of the crash-safety test (tests/crash/run_crash_tests.py
 * --kestrel): writes to the first virtio-blk disk (1af4:1001, legacy I/O
 * BAR, polled) until the host SIGKILLs the VMM.
 *   tests=blkcrash run=N
 * Batches of up to 24 non-overlapping writes and write-zeroes in flight at
 * once, at random places, then a flush. Every 512-byte sector written holds
 * (magic, op index, byte offset) and a filler byte (index*31 + sector*7 + i)
 * at place i, as qcow2_crash_writer writes them; op indexes of run N start
 * at N * 1000000. Lines on COM1, which the host reads as the log:
 *   "W index offset length" / "Z index offset length"  before the op is given
 *                                                      to the device
 *   "F index"   after a flush completed: every op below index had completed
 *               before the flush was given, so its data must survive
 *   "BLK start" once, "BLK error ..." and a stop on a failed request. */
#include "virtio_legacy.h"

#define IO_BASE 0x6100
#define F_SIZE_MAX (1u << 1)
#define F_FLUSH (1u << 9)
#define F_WRITE_ZEROES (1u << 14)
#define T_OUT 1
#define T_FLUSH 4
#define T_WRITE_ZEROES 13
#define MAGIC_LO 0x52454c21u /* 0x4b45535452454c21, "KESTREL!" read big-endian */
#define MAGIC_HI 0x4b455354u
#define BATCH 24
#define MAX_SECTORS 64 /* 32 KiB: filling a buffer is slow in a paravirtual guest's ring 0 */

struct request {
    u32 type, reserved;
    u64 sector;
};
struct zeroes {
    u64 sector;
    u32 sectors, flags;
};
struct slot {
    struct request header;
    struct zeroes zeroes;
    u8 status;
    u32 offset, sectors; /* in sectors */
};

static u8 ring_memory[VIRTQ_RING_MEMORY] __attribute__((aligned(4096)));
static u8 data[BATCH][MAX_SECTORS * 512] __attribute__((aligned(4096)));
static struct slot slots[BATCH + 1]; /* the last one is the flush's */
static struct virtqueue vq;
static u32 rng_state;

static u32 random_u32(void) { /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Bytes 24..511 of a sector are (c + i) mod 256: four at a time, added
 * byte-wise without carries (every store costs an exit-sized amount of time
 * in a paravirtual guest's ring 0, arithmetic does not). */
static void fill(u8 *buf, u32 index, u32 first_sector, u32 sectors) {
    for (u32 s = 0; s < sectors; s++) {
        u32 sector = first_sector + s;
        u32 *w = (u32 *)(buf + s * 512);
        w[0] = MAGIC_LO;
        w[1] = MAGIC_HI;
        w[2] = index;
        w[3] = 0;
        w[4] = sector << 9;
        w[5] = sector >> 23;
        u32 c = (u8)(index * 31 + sector * 7) * 0x01010101u;
        for (u32 i = 24; i < 512; i += 4) {
            u32 base = (i & 0xff) * 0x01010101u + 0x03020100u; /* bytes i..i+3 mod 256: at most 0xff */
            w[i / 4] = ((base & 0x7f7f7f7fu) + (c & 0x7f7f7f7fu)) ^ ((base ^ c) & 0x80808080u);
        }
    }
}

/* Chains header, payload (may be null) and status for slot `n` at
 * descriptors 3n.. and gives the chain to the device. */
static void post(u32 n, void *payload, u32 payload_len) {
    struct slot *sl = &slots[n];
    struct virtq_desc *d = &vq.desc[3 * n];
    d[0].addr = (u32)&sl->header;
    d[0].len = sizeof sl->header;
    d[0].flags = VIRTQ_DESC_F_NEXT;
    u16 last = 0;
    if (payload) {
        d[0].next = (u16)(3 * n + 1);
        d[1].addr = (u32)payload;
        d[1].len = payload_len;
        d[1].flags = VIRTQ_DESC_F_NEXT;
        last = 1;
    }
    d[last].next = (u16)(3 * n + 2);
    d[2].addr = (u32)&sl->status;
    d[2].len = 1;
    d[2].flags = VIRTQ_DESC_F_WRITE;
    sl->status = 0xff;
    vq.avail[2 + vq.avail_idx % vq.size] = (u16)(3 * n);
    vq.avail_idx++;
    virtqueue_publish_and_kick(&vq);
}

static void wait_all(u32 count) {
    while ((u16)(vq.used[1] - vq.last_used) < count) __asm__ volatile("pause");
    compiler_barrier();
    vq.last_used = (u16)(vq.last_used + count);
}

static void pick_place(u32 n, u32 capacity) {
    for (;;) {
        u32 big = random_u32() % 4 == 0;
        u32 sectors = 1 + random_u32() % (big ? MAX_SECTORS : 8);
        u32 offset = random_u32() % (capacity - sectors + 1);
        int overlaps = 0;
        for (u32 i = 0; i < n; i++)
            overlaps |= offset < slots[i].offset + slots[i].sectors && slots[i].offset < offset + sectors;
        if (!overlaps) {
            slots[n].offset = offset;
            slots[n].sectors = sectors;
            return;
        }
    }
}

static void submit_op(u32 n, u32 index, int zeroes) {
    struct slot *sl = &slots[n];
    sl->header.sector = sl->offset;
    if (zeroes) {
        kprintf("Z %u %u %u\n", index, sl->offset << 9, sl->sectors << 9);
        sl->header.type = T_WRITE_ZEROES;
        sl->zeroes.sector = sl->offset;
        sl->zeroes.sectors = sl->sectors;
        sl->zeroes.flags = random_u32() & 1; /* may unmap */
        post(n, &sl->zeroes, sizeof sl->zeroes);
        return;
    }
    fill(data[n], index, sl->offset, sl->sectors);
    kprintf("W %u %u %u\n", index, sl->offset << 9, sl->sectors << 9);
    sl->header.type = T_OUT;
    post(n, data[n], sl->sectors << 9);
}

static int failed_request(u32 count) {
    for (u32 n = 0; n < count; n++)
        if (slots[n].status != 0) {
            kprintf("BLK error type=%u status=%u\n", slots[n].header.type, slots[n].status);
            return 1;
        }
    return 0;
}

static int start_device(u32 *features) {
    if (!virtio_legacy_find(0x10011af4, IO_BASE)) return 0;
    outb(IO_BASE + VIRTIO_REG_STATUS, 0);
    outb(IO_BASE + VIRTIO_REG_STATUS, VIRTIO_STATUS_DRIVER_UP);
    *features = inl(IO_BASE + VIRTIO_REG_HOST_FEATURES) & (F_FLUSH | F_WRITE_ZEROES | F_SIZE_MAX);
    outl(IO_BASE + VIRTIO_REG_GUEST_FEATURES, *features);
    if (!virtqueue_setup(&vq, IO_BASE, 0, ring_memory, 1024) || vq.size < 3 * (BATCH + 1)) return 0;
    outb(IO_BASE + VIRTIO_REG_STATUS, VIRTIO_STATUS_DRIVER_UP | VIRTIO_STATUS_DRIVER_OK);
    return 1;
}

void test_blkcrash(void) {
    u32 features = 0;
    if (!start_device(&features) || !(features & F_FLUSH)) {
        kprintf("BLK error: no virtio-blk disk with a flush command (features=%x)\n", features);
        return;
    }
    u32 capacity = inl(IO_BASE + VIRTIO_REG_CONFIG); /* sectors; the test's disks are < 2 TiB */
    u32 size_max = features & F_SIZE_MAX ? inl(IO_BASE + VIRTIO_REG_CONFIG + 8) : 0;
    if (capacity < 2 * MAX_SECTORS || (size_max && size_max < MAX_SECTORS * 512)) {
        kprintf("BLK error: capacity=%u size_max=%u\n", capacity, size_max);
        return;
    }
    u32 run = cmdline_number("run", 1);
    rng_state = run * 2654435761u | 1;
    u32 index = run * 1000000;
    kprintf("BLK start capacity=%u write_zeroes=%u\n", capacity, (features & F_WRITE_ZEROES) != 0);
    for (;;) {
        for (u32 n = 0; n < BATCH; n++, index++) {
            pick_place(n, capacity);
            submit_op(n, index, (features & F_WRITE_ZEROES) && random_u32() % 10 == 0);
        }
        wait_all(BATCH);
        slots[BATCH].header.type = T_FLUSH;
        slots[BATCH].header.sector = 0;
        post(BATCH, 0, 0);
        wait_all(1);
        if (failed_request(BATCH + 1)) return;
        kprintf("F %u\n", index);
    }
}
