#pragma once
// The driver's side of a split ring, built by hand in a flat fake guest
// memory: descriptor table at 0x1000, avail ring at 0x3000, used ring at
// 0x4000, buffers from 0x10000 on.
#include "kvm/guest_memory.h"
#include "virtio/virtqueue.h"

#include <cstdint>
#include <vector>

namespace kestrel::test {

inline constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;

struct TestBuf {
    uint64_t gpa;
    uint32_t len;
    bool writable = false;
};

class TestRing {
public:
    explicit TestRing(uint16_t size = 16, uint64_t ram = 4 << 20)
        : own_mem(GuestMemory::create_flat(ram)), mem(own_mem) {
        layout.size = size;
        layout.desc = 0x1000;
        layout.avail = 0x3000;
        layout.used = 0x4000;
    }
    // A second ring in another ring's memory, `offset` bytes further up.
    TestRing(const TestRing& other, uint64_t offset)
        : own_mem(GuestMemory::create_flat(4096)), mem(other.mem), layout(other.layout) {
        layout.desc += offset;
        layout.avail += offset;
        layout.used += offset;
    }

    void set_table_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                        uint16_t next = 0) {
        const uint64_t at = table + 16 * uint64_t(i);
        mem.write_obj(at, addr);
        mem.write_obj(at + 8, len);
        mem.write_obj(at + 12, flags);
        mem.write_obj(at + 14, next);
    }
    void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
        set_table_desc(layout.desc, i, addr, len, flags, next);
    }

    // Puts `head` in the next avail slot and publishes the new avail idx.
    void make_available(uint16_t head) {
        mem.write_obj(layout.avail + 4 + 2 * uint64_t(avail_idx % layout.size), head);
        ++avail_idx;
        publish_avail_idx(avail_idx);
    }
    void set_avail_idx(uint16_t idx) {
        avail_idx = idx;
        publish_avail_idx(idx);
    }

    // Links the buffers in consecutive descriptors (wrapping) and makes the
    // chain available; returns the head.
    uint16_t add_chain(const std::vector<TestBuf>& bufs) {
        const uint16_t head = next_free;
        for (size_t i = 0; i < bufs.size(); ++i) {
            const uint16_t index = next_free;
            next_free = uint16_t((next_free + 1) % layout.size);
            uint16_t flags = bufs[i].writable ? kWrite : 0;
            if (i + 1 < bufs.size()) flags |= kNext;
            set_desc(index, bufs[i].gpa, bufs[i].len, flags, next_free);
        }
        make_available(head);
        return head;
    }

    // The same through an indirect table at `table` (one direct descriptor).
    uint16_t add_indirect_chain(uint64_t table, const std::vector<TestBuf>& bufs) {
        for (size_t i = 0; i < bufs.size(); ++i) {
            uint16_t flags = bufs[i].writable ? kWrite : 0;
            if (i + 1 < bufs.size()) flags |= kNext;
            set_table_desc(table, uint16_t(i), bufs[i].gpa, bufs[i].len, flags, uint16_t(i + 1));
        }
        const uint16_t head = next_free;
        next_free = uint16_t((next_free + 1) % layout.size);
        set_desc(head, table, uint32_t(16 * bufs.size()), kIndirect);
        make_available(head);
        return head;
    }

    // A fresh, empty ring at the same place (as a driver does after reset).
    void clear() {
        for (uint64_t gpa = layout.desc; gpa < layout.used + 0x1000; ++gpa) mem.write_obj(gpa, uint8_t(0));
        avail_idx = next_free = 0;
    }

    // A driver's side of the ring protocol: the avail idx is stored with
    // release (virtio_wmb, then the store), the used idx loaded with
    // acquire, so that a device on another thread (its loop or iothread)
    // sees the descriptors and buffers written before, and the test sees
    // what the device wrote (ThreadSanitizer checks both).
    void publish_avail_idx(uint16_t idx) {
        __atomic_store_n(reinterpret_cast<uint16_t*>(mem.host_ptr(layout.avail + 2, 2)), idx,
                         __ATOMIC_RELEASE);
    }
    uint16_t used_idx() const {
        return __atomic_load_n(reinterpret_cast<const uint16_t*>(mem.host_ptr(layout.used + 2, 2)),
                               __ATOMIC_ACQUIRE);
    }
    uint16_t used_flags() const { return read<uint16_t>(layout.used); }
    uint32_t used_id(uint16_t slot) const {
        return read<uint32_t>(layout.used + 4 + 8 * uint64_t(slot % layout.size));
    }
    uint32_t used_len(uint16_t slot) const {
        return read<uint32_t>(layout.used + 8 + 8 * uint64_t(slot % layout.size));
    }
    uint16_t avail_event() const { return read<uint16_t>(layout.used + 4 + 8 * uint64_t(layout.size)); }
    void set_used_event(uint16_t v) { mem.write_obj(layout.avail + 4 + 2 * uint64_t(layout.size), v); }
    void set_avail_flags(uint16_t v) { mem.write_obj(layout.avail, v); }

    template <typename T> T read(uint64_t gpa) const {
        T v{};
        mem.read_obj(gpa, v);
        return v;
    }

    GuestMemory own_mem;
    const GuestMemory& mem;
    VirtqueueLayout layout;
    uint16_t avail_idx = 0;
    uint16_t next_free = 0;
};

} // namespace kestrel::test
