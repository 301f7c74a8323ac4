#pragma once
// Creating a qcow2 image (kestrel-img create, snapshot=on overlays): the
// header, a refcount table and blocks that count themselves, an empty L1
// table, laid out as QEMU lays out a new image.
#include "block/qcow2/qcow2_format.h"

#include <cstdint>
#include <string>

namespace kestrel {

enum class Preallocation { Off, Metadata, Falloc, Full };

struct Qcow2CreateOptions {
    uint64_t size = 0;
    uint32_t cluster_size = 65536;
    uint32_t version = 3;        // compat=1.1; 2 for compat=0.10
    uint32_t refcount_bits = 16;
    bool lazy_refcounts = false;
    std::string backing_file;    // as written into the header
    std::string backing_format;
    Preallocation preallocation = Preallocation::Off;
    // zstd sets the compression type incompatible feature bit (v3 only).
    qcow2::CompressionType compression_type = qcow2::CompressionType::Zlib;
};

// Checks the options as QEMU does; "" when they are fine, else QEMU's text.
std::string check_qcow2_create_options(const Qcow2CreateOptions& options);

// Writes a new image into fd (an empty file). 0 or -errno.
int write_new_qcow2(int fd, const Qcow2CreateOptions& options);

} // namespace kestrel
