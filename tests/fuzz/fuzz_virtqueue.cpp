// The split virtqueue as a hostile driver sets it up: ring placement, size
// and features from the input, then guest RAM writes (descriptors,
// indirect tables, avail ring and index, used_event) between the device's
// pops and pushes. Every chain the queue hands out must lie inside guest
// RAM, readable buffers before writable ones; a broken queue stays broken.
//
// Input: u8 log2(size), u16 desc, u16 avail, u16 used (offsets in a 64 KiB
// RAM), u8 flags (bit 0 event idx, bit 1 indirect), then operations.
#include "fuzz_support.h"
#include "virtio/virtqueue.h"

#include <vector>

using namespace kestrel;

namespace {

constexpr uint64_t kRam = 64 * 1024;

void check_chain(const GuestMemory& mem, const VirtqueueChain& chain, uint16_t size) {
    FUZZ_CHECK(chain.head < size, "a head outside the ring");
    FUZZ_CHECK(chain.readable <= chain.buffers.size(), "more readable buffers than buffers");
    const uint8_t* base = mem.host_ptr(0, kRam);
    for (const iovec& v : chain.buffers) {
        auto* p = static_cast<const uint8_t*>(v.iov_base);
        FUZZ_CHECK(v.iov_len > 0, "an empty buffer");
        FUZZ_CHECK(p >= base && v.iov_len <= kRam && size_t(p - base) <= kRam - v.iov_len,
                   "a buffer outside guest RAM");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::ByteReader in(data, size);
    auto mem = GuestMemory::create_flat(kRam);
    VirtqueueLayout layout;
    layout.size = uint16_t(1u << (in.u8() % 16));
    layout.desc = in.u16();
    layout.avail = in.u16();
    layout.used = in.u16();
    const uint8_t flags = in.u8();
    layout.event_idx = flags & 1;
    layout.indirect = flags & 2;

    Virtqueue vq(mem, layout, "fuzz");
    VirtqueueChain chain;
    std::vector<uint16_t> heads;
    bool was_broken = vq.broken();
    while (!in.done()) {
        switch (in.u8() % 6) {
        case 0:
            if (vq.pop(chain) == PopResult::Chain) {
                check_chain(mem, chain, layout.size);
                heads.push_back(chain.head);
            }
            break;
        case 1: {
            const uint8_t pick = in.u8();
            const uint32_t written = in.u32();
            const uint16_t head = heads.empty() || pick == 0xff ? in.u16() : heads[pick % heads.size()];
            vq.push(head, written);
            break;
        }
        case 2: vq.needs_interrupt(); break;
        case 3: vq.disable_notification(); break;
        case 4: vq.enable_notification(); break;
        case 5: {
            const uint16_t gpa = in.u16();
            const auto bytes = in.bytes(in.u8());
            mem.write(gpa, bytes.first(std::min<size_t>(bytes.size(), kRam - gpa)));
            break;
        }
        }
        FUZZ_CHECK(!was_broken || vq.broken(), "a broken queue came back");
        if (vq.broken()) FUZZ_CHECK(vq.pop(chain) == PopResult::Broken, "a broken queue popped");
        was_broken = vq.broken();
    }
    return 0;
}
