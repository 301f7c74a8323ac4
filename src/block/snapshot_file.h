#pragma once
// snapshot=on for raw images: the guest writes to a private copy of the
// image, an unlinked temporary file in $TMPDIR (default /var/tmp, as QEMU
// puts its temporary overlay), which disappears when kestrel exits. The copy
// is a reflink when the file system can (FICLONE); otherwise only the data
// extents are copied (SEEK_DATA/SEEK_HOLE, copy_file_range, falling back to
// read/write that skips zero blocks), so sparse images stay cheap. Unlike
// QEMU's qcow2 overlay the copy costs time proportional to the data.
#include "base/unique_fd.h"

#include <cstdint>
#include <string>

namespace kestrel {

// Returns the copy, open read-write without cache flags. Throws
// std::runtime_error naming path on failure.
UniqueFd make_snapshot_copy(int base_fd, uint64_t size, const std::string& path);

} // namespace kestrel
