#pragma once
// Block status through a whole backing chain, as qemu-img map and convert
// see it: which layer answers for an offset (depth), whether it holds data
// or zeros, and where in which file.
#include "block/image/async_image.h"

#include <string>

namespace kestrel::img {

struct ChainStatus {
    uint64_t length = 0;
    int depth = 0;
    bool present = false;  // some layer allocated it
    bool zero = false;
    bool data = false;
    bool has_offset = false;
    uint64_t offset = 0;
    const AsyncImage* file = nullptr;  // the layer with the offset
};

// The status at `offset` for at most `max` bytes, over `top` and its
// backing files (a layer shorter than the one above reads as zeros).
Task<ChainStatus> chain_status(AsyncImage& top, uint64_t offset, uint64_t max);

} // namespace kestrel::img
