// virtio-blk requests (VIRTIO 1.2 §5.2.6): header, payload, status byte.
// Answers follow QEMU 7.2: bad ranges and writes to a read-only disk are
// IOERR, unknown types and flags UNSUPP, and a chain without room for the
// header or the status byte makes the device need a reset.
#include "virtio/blk/virtio_blk.h"
#include "base/monotonic_clock.h"

#include "block/block_stats.h"
#include "virtio/blk/virtio_blk_abi.h"
#include "virtio/blk/virtio_blk_internal.h"

#include <algorithm>
#include <cstring>

namespace kestrel {

using namespace virtio_blk;

namespace {

constexpr uint64_t kMaxRequestSectors = 4194303;  // QEMU's BDRV_REQUEST_MAX_SECTORS

// Copies up to out.size() bytes from the front of `iov`; returns the count.
size_t gather(std::span<const iovec> iov, std::span<uint8_t> out) {
    size_t done = 0;
    for (const iovec& v : iov) {
        if (done == out.size()) break;
        const size_t n = std::min(v.iov_len, out.size() - done);
        std::memcpy(out.data() + done, v.iov_base, n);
        done += n;
    }
    return done;
}

// `iov` without its first `skip` bytes.
void drop_front(std::span<const iovec> iov, size_t skip, std::vector<iovec>& out) {
    out.clear();
    for (const iovec& v : iov) {
        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        out.push_back({static_cast<uint8_t*>(v.iov_base) + skip, v.iov_len - skip});
        skip = 0;
    }
}

uint64_t total_length(const std::vector<iovec>& iov) {
    uint64_t n = 0;
    for (const iovec& v : iov) n += v.iov_len;
    return n;
}

} // namespace

void VirtioBlk::handle_request(Queue& queue, std::unique_ptr<Request> owned) {
    Request& request = *owned.release();  // back to the free list in complete()
    ++in_flight_;
    request.start_ns = monotonic_ns();
    request.pending = 0;
    request.written = 0;
    request.result = kSOk;
    const VirtqueueChain& chain = request.chain;
    auto readable = chain.readable_buffers();
    auto writable = chain.writable_buffers();
    RequestHeader header{};
    if (writable.empty() ||
        gather(readable, {reinterpret_cast<uint8_t*>(&header), sizeof header}) != sizeof header) {
        queue.vq->set_broken("virtio-blk request without room for its header and status");
        request.status = nullptr;
        complete(request, kSIoErr);
        return;
    }
    const iovec& last = writable.back();
    request.status = static_cast<uint8_t*>(last.iov_base) + last.iov_len - 1;

    uint8_t status;
    const uint32_t type = header.type & ~(kTOut | kTBarrier);
    const bool out_bit = header.type & kTOut;
    if (type == kTIn) {
        status = start_read_write(request, header.type, header.sector);
    } else if (type == kTFlush) {
        request.data.clear();
        submit(request, {BlockOp::Flush});
        status = kSOk;
    } else if (type == kTGetId) {
        status = answer_get_id(request);
    } else if (out_bit && (type == (kTDiscard & ~kTOut) || type == (kTWriteZeroes & ~kTOut))) {
        status = start_discard_or_zeroes(request, type == (kTWriteZeroes & ~kTOut));
    } else {
        status = kSUnsupp;
    }
    if (request.pending == 0) complete(request, status);
}

uint8_t VirtioBlk::start_read_write(Request& request, uint32_t type, uint64_t sector) {
    const bool write = type & kTOut;
    const VirtqueueChain& chain = request.chain;
    if (write) {
        drop_front(chain.readable_buffers(), sizeof(RequestHeader), request.data);
    } else {
        request.data.assign(chain.writable_buffers().begin(), chain.writable_buffers().end());
        if (--request.data.back().iov_len == 0) request.data.pop_back();  // the status byte
    }
    const uint64_t bytes = total_length(request.data);
    if (!sector_range_ok(sector, bytes)) return kSIoErr;
    if (write && config_.backend->read_only()) return kSIoErr;
    if (!write) request.written = uint32_t(bytes);
    BlockRequest block{write ? BlockOp::Write : BlockOp::Read, sector << kSectorShift, bytes};
    block.iov = std::move(request.data);
    submit(request, std::move(block));
    return kSOk;
}

uint8_t VirtioBlk::start_discard_or_zeroes(Request& request, bool write_zeroes) {
    if (write_zeroes ? !config_.write_zeroes : !config_.discard) return kSUnsupp;
    drop_front(request.chain.readable_buffers(), sizeof(RequestHeader), request.data);
    const uint64_t payload = total_length(request.data);
    const uint32_t max_segments = write_zeroes ? config_.max_write_zeroes_seg : config_.max_discard_seg;
    const uint32_t max_sectors =
        write_zeroes ? config_.max_write_zeroes_sectors : config_.max_discard_sectors;
    if (payload < sizeof(DiscardSegment)) {
        request.queue->vq->set_broken("virtio-blk discard/write_zeroes header too short");
        return kSIoErr;
    }
    if (payload % sizeof(DiscardSegment) || payload / sizeof(DiscardSegment) > max_segments)
        return kSUnsupp;
    std::vector<DiscardSegment> segments(payload / sizeof(DiscardSegment));
    gather(request.data, {reinterpret_cast<uint8_t*>(segments.data()), payload});
    for (const DiscardSegment& s : segments) {
        if (s.num_sectors > max_sectors) return kSIoErr;
        if (!sector_range_ok(s.sector, uint64_t(s.num_sectors) << kSectorShift)) return kSIoErr;
        if (s.flags & ~kWriteZeroesFlagUnmap) return kSUnsupp;
        if (!write_zeroes && (s.flags & kWriteZeroesFlagUnmap)) return kSUnsupp;
    }
    if (config_.backend->read_only()) return kSIoErr;
    request.data.clear();
    for (const DiscardSegment& s : segments) {
        submit(request, {write_zeroes ? BlockOp::WriteZeroes : BlockOp::Discard,
                         s.sector << kSectorShift, uint64_t(s.num_sectors) << kSectorShift});
    }
    return kSOk;
}

// The serial's first 20 bytes, NUL padded, as far as the buffer reaches.
uint8_t VirtioBlk::answer_get_id(Request& request) {
    char id[kIdBytes] = {};
    std::memcpy(id, config_.serial.data(), std::min<size_t>(config_.serial.size(), kIdBytes));
    const auto writable = request.chain.writable_buffers();
    request.data.assign(writable.begin(), writable.end());
    const size_t room = std::min<size_t>(total_length(request.data) - 1, kIdBytes);  // - status
    size_t done = 0;
    for (const iovec& v : request.data) {
        const size_t n = std::min(v.iov_len, room - done);
        std::memcpy(v.iov_base, id + done, n);
        done += n;
    }
    request.written = uint32_t(done);
    return kSOk;
}

bool VirtioBlk::sector_range_ok(uint64_t sector, uint64_t bytes) const {
    const uint32_t block = config_.backend->logical_block_size();
    const uint64_t sectors = bytes >> kSectorShift;
    const uint64_t total = config_.backend->size() >> kSectorShift;
    if (sectors > kMaxRequestSectors) return false;
    if (sector & ((block >> kSectorShift) - 1)) return false;
    if (bytes % block) return false;
    return sector <= total && sectors <= total - sector;
}

void VirtioBlk::submit(Request& request, BlockRequest block) {
    ++request.pending;
    block.done = [this, &request](int64_t result) {
        if (result < 0) request.result = kSIoErr;
        if (--request.pending == 0) complete(request, request.result);
    };
    config_.backend->submit(std::move(block));
}

void VirtioBlk::complete(Request& request, uint8_t status) {
    if (status != kSOk) request.written = 0;
    if (!stopping_ && request.status) {
        *request.status = status;
        request.queue->vq->push(request.chain.head, request.written + 1);
    }
    --in_flight_;
    batcher_.record_latency(monotonic_ns() - request.start_ns);
    free_requests_.emplace_back(&request);
}

} // namespace kestrel
