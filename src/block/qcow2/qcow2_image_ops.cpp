// What kestrel-img does to a qcow2 image beyond reading and writing:
// compressed clusters (convert -c), resizing, the COPIED flags check -r
// repairs.
#include "block/async/buffer.h"
#include "block/async/iov.h"
#include "block/qcow2/qcow2_compress.h"
#include "block/qcow2/qcow2_image.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

using namespace qcow2;

uint64_t Qcow2Image::current_file_size() const {
    struct stat st {};
    if (fstat(file_.fd.get(), &st) != 0) return file_.size;
    return uint64_t(st.st_size);
}

void Qcow2Image::set_copied_flag_l1(size_t index, bool copied) {
    l1_[index] = copied ? l1_[index] | kCopied : l1_[index] & ~kCopied;
    dirty_l1_.insert(index);
}

Task<void> Qcow2Image::set_copied_flag_l2(size_t l1_index, size_t l2_index, bool copied) {
    uint64_t offset = l1_[l1_index] & kOffsetMask;
    L2Table* t = nullptr;
    if (co_await get_l2_at(offset, &t) < 0) co_return;
    uint64_t& e = t->entries[l2_index];
    e = copied ? e | kCopied : e & ~kCopied;
    mark_dirty(offset, t);
}

// One guest cluster, compressed into the bytes after the previous
// compressed cluster (several share a host cluster, as in QEMU's images).
Task<int> Qcow2Image::write_compressed(uint64_t offset, std::vector<uint8_t> data) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (g_.offset_in_cluster(offset) || data.size() != g_.cluster_size() || offset >= size()) co_return -EINVAL;
    std::optional<std::vector<uint8_t>> packed = compress_cluster(header_.compression_type, data);
    if (!packed) {
        uint64_t n = std::min<uint64_t>(data.size(), size() - offset);
        std::vector<iovec> iov{{data.data(), size_t(n)}};
        co_return co_await write(offset, std::move(iov));
    }
    const uint64_t bytes = packed->size();
    if (compressed_cursor_ == 0 || g_.offset_in_cluster(compressed_cursor_) == 0 ||
        (compressed_cursor_ >> g_.cluster_bits) + 1 != next_cluster_)
        compressed_cursor_ = next_cluster_ << g_.cluster_bits;
    const uint64_t host = compressed_cursor_;
    const uint64_t first = host >> g_.cluster_bits, last = (host + bytes - 1) >> g_.cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        add_delta(c, 1);
        if (c >= next_cluster_) next_cluster_ = c + 1;
    }
    compressed_cursor_ = host + bytes;
    AsyncFile file = io();
    if (file.buffered_fd >= 0) file.fd = file.buffered_fd;
    int r = co_await file_write_buf(ctx_, file, host, packed->data(), bytes);
    if (r < 0) co_return r;
    const uint64_t l1_index = g_.l1_index(offset);
    L2Table* t = nullptr;
    r = co_await get_l2_for_write(l1_index, &t);
    if (r < 0) co_return r;
    uint64_t& e = t->entries[g_.l2_index(offset)];
    release_entry(e);
    e = encode_compressed(host, bytes, g_);
    mark_dirty(l1_[l1_index] & kOffsetMask, t);
    if (needs_writeback_) co_return co_await writeback();
    co_return 0;
}

// A new size: clusters past a smaller size are freed; a larger size may
// need a larger L1 table, written before the header points at it.
Task<int> Qcow2Image::resize(uint64_t new_size) {
    if (read_only_) co_return -EBADF;
    if (corrupt_) co_return -EIO;
    if (new_size % 512) co_return -EINVAL;
    if (new_size < size()) {
        uint64_t first = g_.cluster_ceil(new_size) >> g_.cluster_bits;
        uint64_t end = g_.cluster_ceil(size()) >> g_.cluster_bits;
        for (uint64_t c = first; c < end;) {
            uint64_t l1_index = g_.l1_index(c << g_.cluster_bits);
            uint64_t span_end = std::min(end, (l1_index + 1) << g_.l2_bits());
            L2Table* t = nullptr;
            int r = co_await get_l2(l1_index, &t);
            if (r < 0) co_return r;
            bool any = false;
            for (uint64_t i = c; t && i < span_end && !any; i++) any = t->entries[g_.l2_index(i << g_.cluster_bits)];
            if (any) {
                r = co_await get_l2_for_write(l1_index, &t);
                if (r < 0) co_return r;
                for (uint64_t i = c; i < span_end; i++) {
                    uint64_t& e = t->entries[g_.l2_index(i << g_.cluster_bits)];
                    release_entry(e);
                    e = 0;
                }
                mark_dirty(l1_[l1_index] & kOffsetMask, t);
            }
            c = span_end;
        }
    }
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    uint64_t needed = g_.l1_entries_for(new_size);
    if (needed > l1_.size()) {
        r = co_await grow_l1(needed);
        if (r < 0) co_return r;
    }
    header_.size = new_size;
    g_.size = new_size;
    r = co_await rewrite_header();
    if (r < 0) co_return r;
    co_return co_await do_writeback(true);
}

// A larger active L1 table at the end of the file: counted, written and
// flushed before the header points at it; the old one freed after.
Task<int> Qcow2Image::grow_l1(uint64_t entries) {
    if (entries * 8 > kMaxL1Bytes) co_return -EFBIG;
    uint64_t clusters = (entries * 8 + g_.cluster_size() - 1) >> g_.cluster_bits;
    uint64_t old_offset = header_.l1_table_offset, old_size = header_.l1_size;
    uint64_t host = allocate_clusters(clusters);
    int r = co_await do_writeback(true);
    std::vector<uint64_t> table = l1_;
    table.resize(entries, 0);
    std::vector<uint8_t> bytes = encode_table(table);
    Buffer buf(clusters << g_.cluster_bits);
    std::memcpy(buf.data(), bytes.data(), bytes.size());
    if (r == 0) r = co_await file_write_buf(ctx_, io(), host, buf.data(), buf.size());
    if (r == 0) r = co_await sync_file();
    if (r < 0) co_return r;
    l1_ = std::move(table);
    header_.l1_table_offset = host;
    header_.l1_size = uint32_t(entries);
    r = co_await rewrite_header();
    if (r == 0) r = co_await sync_file();
    if (r < 0) co_return r;
    if (old_offset && old_size) {
        uint64_t first = old_offset >> g_.cluster_bits;
        uint64_t last = (old_offset + old_size * 8 - 1) >> g_.cluster_bits;
        for (uint64_t c = first; c <= last; c++) add_delta(c, -1);
    }
    co_return 0;
}

Task<int> Qcow2Image::change_backing_file(std::string name, std::string format) {
    if (read_only_) co_return -EBADF;
    qcow2::Header changed = header_;
    changed.backing_file = std::move(name);
    changed.backing_format = std::move(format);
    try {
        encode_header(changed);
    } catch (const FormatError&) {
        co_return -ENOSPC;
    }
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    header_ = std::move(changed);
    r = co_await rewrite_header();
    if (r == 0) r = co_await sync_file();
    co_return r;
}

Task<int> Qcow2Image::make_empty() {
    if (read_only_) co_return -EBADF;
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    std::vector<uint64_t> old = l1_;
    for (size_t i = 0; i < l1_.size(); i++) {
        if (!l1_[i]) continue;
        l1_[i] = 0;
        dirty_l1_.insert(i);
    }
    r = co_await add_l1_references(old, -1);
    if (r == 0) r = co_await do_writeback(true);
    co_return r;
}

Task<int> Qcow2Image::amend_header(qcow2::Header h) {
    if (read_only_) co_return -EBADF;
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    if (h.version < 3 && header_.version >= 3) {
        if (!snapshots_.empty()) co_return -EBUSY;
        for (size_t i = 0; i < l1_.size(); i++) {
            if (!(l1_[i] & kOffsetMask)) continue;
            L2Table* t = nullptr;
            r = co_await get_l2_at(l1_[i] & kOffsetMask, &t);
            if (r < 0) co_return r;
            for (uint64_t e : t->entries)
                if (!(e & kCompressed) && (e & kZeroFlag)) co_return -EEXIST;
        }
        h.incompatible_features = h.compatible_features = h.autoclear_features = 0;
        h.has_feature_table = false;
        h.feature_names.clear();
        h.refcount_order = 4;
    } else if (h.version >= 3 && header_.version < 3 && g_.cluster_size() >= 8192) {
        h.has_feature_table = true;
        h.feature_names = qemu_feature_names();
    }
    header_ = std::move(h);
    r = co_await rewrite_header();
    if (r == 0) r = co_await sync_file();
    co_return r;
}

Task<int> Qcow2Image::mark_consistent() {
    if (read_only_) co_return -EBADF;
    if (!(header_.incompatible_features & (kIncompatDirty | kIncompatCorrupt))) co_return 0;
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    header_.incompatible_features &= ~(kIncompatDirty | kIncompatCorrupt);
    r = co_await rewrite_header();
    if (r == 0) r = co_await sync_file();
    co_return r;
}

Task<int> Qcow2Image::preallocate(Preallocation mode) {
    if (read_only_) co_return -EBADF;
    const uint64_t clusters = g_.cluster_ceil(size()) >> g_.cluster_bits;
    uint64_t data_start = 0;
    for (uint64_t c = 0; c < clusters;) {
        const uint64_t l1_index = g_.l1_index(c << g_.cluster_bits);
        const uint64_t span_end = std::min(clusters, (l1_index + 1) << g_.l2_bits());
        L2Table* t = nullptr;
        int r = co_await get_l2_for_write(l1_index, &t);
        if (r < 0) co_return r;
        uint64_t host = allocate_clusters(span_end - c);
        if (!data_start) data_start = host;
        for (uint64_t i = c; i < span_end; i++) {
            uint64_t& e = t->entries[g_.l2_index(i << g_.cluster_bits)];
            release_entry(e);
            e = (host + ((i - c) << g_.cluster_bits)) | kCopied;
        }
        mark_dirty(l1_[l1_index] & kOffsetMask, t);
        c = span_end;
        if (needs_writeback_) {
            r = co_await writeback();
            if (r < 0) co_return r;
        }
    }
    int r = co_await do_writeback(true);
    if (r < 0) co_return r;
    const uint64_t end = next_cluster_ << g_.cluster_bits;
    if (mode == Preallocation::Falloc && data_start && ::fallocate(file_.fd.get(), 0, off_t(data_start), off_t(end - data_start)) != 0)
        co_return -errno;
    if (mode == Preallocation::Full && data_start) {
        r = co_await file_fallocate(ctx_, io(), FALLOC_FL_ZERO_RANGE, data_start, end - data_start);
        if (r < 0) {  // write the zeros
            for (uint64_t at = data_start; at < end;) {
                uint64_t n = std::min<uint64_t>(end - at, 64 * kZeroBufferSize);
                std::vector<iovec> zeros;
                append_zero_iov(zeros, n);
                r = co_await file_write(ctx_, io(), at, std::move(zeros));
                if (r < 0) co_return r;
                at += n;
            }
        }
    }
    if (current_file_size() < end && ::ftruncate(file_.fd.get(), off_t(end)) != 0) co_return -errno;
    co_return 0;
}

} // namespace kestrel
