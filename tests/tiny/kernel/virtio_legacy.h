/* A legacy (transitional) virtio-pci function through its I/O BAR, for the
 * tiny kernel's polled drivers: split rings in one static block each, no
 * interrupts (the driver asks for none and polls the used ring). */
#ifndef VIRTIO_LEGACY_H
#define VIRTIO_LEGACY_H

#include "tiny.h"

#define VIRTIO_REG_HOST_FEATURES 0x00
#define VIRTIO_REG_GUEST_FEATURES 0x04
#define VIRTIO_REG_QUEUE_PFN 0x08
#define VIRTIO_REG_QUEUE_SIZE 0x0c
#define VIRTIO_REG_QUEUE_SELECT 0x0e
#define VIRTIO_REG_QUEUE_NOTIFY 0x10
#define VIRTIO_REG_STATUS 0x12
#define VIRTIO_REG_CONFIG 0x14 /* MSI-X off: the device's config starts here */

#define VIRTIO_STATUS_DRIVER_UP (1 | 2) /* ACKNOWLEDGE, DRIVER */
#define VIRTIO_STATUS_DRIVER_OK 4

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_RING_MEMORY 0x9000 /* rings of up to 1024 entries */

struct virtq_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};
struct virtq_used_elem {
    u32 id;
    u32 len;
};
struct virtqueue {
    u16 io_base, index, size;
    struct virtq_desc *desc;
    volatile u16 *avail; /* flags, idx, ring[size] */
    volatile u16 *used;  /* flags, idx, then virtq_used_elem[size] */
    u16 avail_idx, last_used;
};

static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void full_barrier(void) { __asm__ volatile("lock; addl $0,(%%esp)" ::: "memory", "cc"); }

/* Finds the first function with this vendor:device id on bus 0, puts its
 * I/O BAR at `io_base` and enables I/O decoding and bus mastering. */
int virtio_legacy_find(u32 pci_id, u16 io_base);
/* Selects queue `index`, lays its rings out in `ring_memory`
 * (VIRTQ_RING_MEMORY bytes, page-aligned) and gives them to the device. */
int virtqueue_setup(struct virtqueue *q, u16 io_base, u16 index, u8 *ring_memory, u16 max_size);
/* Publishes avail_idx and notifies the device unless it asked not to be. */
void virtqueue_publish_and_kick(struct virtqueue *q);
const volatile struct virtq_used_elem *virtqueue_used_elem(const struct virtqueue *q, u16 n);

#endif
