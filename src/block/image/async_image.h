#pragma once
// A disk image of any format as tasks on an AioContext: the layer the
// qcow2 driver, backing chains, the BlockBackend for devices and kestrel-img
// share. Offsets are guest (virtual disk) bytes; requests must lie within
// size(). Results are 0 or -errno.
#include "block/async/aio_context.h"

#include <cstdint>
#include <memory>
#include <string>
#include <sys/uio.h>
#include <vector>

namespace kestrel {

// What one layer holds at an offset (QEMU's block status): the answer for
// the first byte and how many bytes from there share it.
struct BlockStatus {
    enum Kind : uint8_t {
        Data,         // this layer has the data (host_offset where known)
        Zero,         // this layer says zeros
        Unallocated,  // this layer has nothing: the backing file's, or zeros
    };
    Kind kind = Unallocated;
    uint64_t length = 0;
    bool has_offset = false;
    uint64_t host_offset = 0;   // Data (and preallocated zeros) in the image file
    bool compressed = false;
};

class AsyncImage {
public:
    virtual ~AsyncImage() = default;

    virtual const std::string& filename() const = 0;
    virtual const char* format_name() const = 0;  // "raw", "qcow2"
    virtual uint64_t size() const = 0;
    virtual bool read_only() const = 0;
    // The next image of the chain (nullptr at its end).
    virtual AsyncImage* backing() const { return nullptr; }
    // Bytes the image file takes on the host (st_blocks).
    virtual uint64_t allocated_bytes() const = 0;

    virtual Task<int> read(uint64_t offset, std::vector<iovec> iov) = 0;
    virtual Task<int> write(uint64_t offset, std::vector<iovec> iov) = 0;
    // Zeros; may_unmap lets the image free the space.
    virtual Task<int> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) = 0;
    // The guest no longer needs the range (contents become undefined).
    virtual Task<int> discard(uint64_t offset, uint64_t length) = 0;
    // Everything completed so far becomes durable (and consistent on disk).
    virtual Task<int> flush() = 0;
    virtual Task<BlockStatus> block_status(uint64_t offset, uint64_t max_length) = 0;
    // Writes back what is cached; the image stays usable.
    virtual Task<int> close() { return flush(); }
    // Bulk copies into a buffered image: some large data writes may go to
    // the device directly (DirectLane). false where the image cannot.
    virtual bool enable_direct_lane(unsigned /*depth*/) { return false; }
};

} // namespace kestrel
