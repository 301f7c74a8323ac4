#pragma once
// Compressed clusters in the image's compression type, as QEMU writes
// them: raw deflate (zlib, window 2^12) or zstd frames.
#include "block/qcow2/qcow2_format.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kestrel::qcow2 {

// Fills `out` (one cluster) from the compressed bytes; false when they do
// not decompress to a whole cluster.
bool decompress_cluster(CompressionType type, std::span<const uint8_t> in, std::span<uint8_t> out);

// The compressed form of one cluster, or nothing when it would not be
// smaller than the cluster.
std::optional<std::vector<uint8_t>> compress_cluster(CompressionType type, std::span<const uint8_t> cluster);

} // namespace kestrel::qcow2
