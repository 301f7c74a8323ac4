#include "img/chain_status.h"

namespace kestrel::img {

Task<ChainStatus> chain_status(AsyncImage& top, uint64_t offset, uint64_t max) {
    ChainStatus out;
    AsyncImage* layer = &top;
    uint64_t length = max;
    for (int depth = 0;; depth++) {
        BlockStatus st = co_await layer->block_status(offset, length);
        length = std::min(length, st.length);
        AsyncImage* below = layer->backing();
        out.depth = depth;
        if (st.kind != BlockStatus::Unallocated) {
            out.present = true;
            out.data = st.kind == BlockStatus::Data;
            out.zero = st.kind == BlockStatus::Zero;
            out.has_offset = st.has_offset;
            out.offset = st.host_offset;
            out.file = layer;
            break;
        }
        if (!below) {  // unallocated everywhere: zeros
            out.zero = true;
            break;
        }
        if (offset >= below->size()) {  // past the end of the backing file: zeros here
            out.zero = true;
            break;
        }
        length = std::min(length, below->size() - offset);
        layer = below;
    }
    out.length = length;
    co_return out;
}

} // namespace kestrel::img
