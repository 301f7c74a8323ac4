#include "virtio_legacy.h"

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

int virtio_legacy_find(u32 pci_id, u16 io_base) {
    for (u32 d = 0; d < 32; d++) {
        if (pci_config_read(d, 0) != pci_id) continue;
        pci_config_write(d, 0x10, io_base | 1u);
        pci_config_write(d, 0x04, 0x5); /* I/O decoding, bus master */
        return 1;
    }
    return 0;
}

int virtqueue_setup(struct virtqueue *q, u16 io_base, u16 index, u8 *mem, u16 max_size) {
    outw(io_base + VIRTIO_REG_QUEUE_SELECT, index);
    u16 size = inw(io_base + VIRTIO_REG_QUEUE_SIZE);
    if (!size || size > max_size) return 0;
    u32 used_at = (16u * size + 6u + 2u * size + 4095u) & ~4095u;
    if (used_at + 6u + 8u * size > VIRTQ_RING_MEMORY) return 0;
    mem_set(mem, 0, VIRTQ_RING_MEMORY);
    q->io_base = io_base;
    q->index = index;
    q->size = size;
    q->desc = (struct virtq_desc *)mem;
    q->avail = (volatile u16 *)(mem + 16 * size);
    q->used = (volatile u16 *)(mem + used_at);
    q->avail[0] = AVAIL_F_NO_INTERRUPT;
    q->avail_idx = q->last_used = 0;
    outl(io_base + VIRTIO_REG_QUEUE_PFN, (u32)mem >> 12);
    return 1;
}

void virtqueue_publish_and_kick(struct virtqueue *q) {
    compiler_barrier();
    q->avail[1] = q->avail_idx;
    full_barrier();
    if (!(q->used[0] & USED_F_NO_NOTIFY)) outw(q->io_base + VIRTIO_REG_QUEUE_NOTIFY, q->index);
}

const volatile struct virtq_used_elem *virtqueue_used_elem(const struct virtqueue *q, u16 n) {
    return (const volatile struct virtq_used_elem *)(q->used + 2) + n % q->size;
}
