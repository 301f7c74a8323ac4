#pragma once
// The temporary file behind snapshot=on: an unlinked file in $TMPDIR
// (default /var/tmp, where QEMU puts its overlay), gone when kestrel exits.
// open_image_backend() makes it a qcow2 overlay over the drive's image.
#include "base/unique_fd.h"

#include <string>

namespace kestrel {

// An unlinked read-write file. Throws std::runtime_error
// "Could not create temporary snapshot of 'PATH': ..." naming the image.
UniqueFd create_unlinked_temp(const std::string& path);

} // namespace kestrel
