#pragma once
// screendump's files: binary PPM (P6) and 8-bit RGB PNG, as QEMU writes
// them. Throws std::runtime_error with QEMU's texts ("failed to open file
// 'F': <reason>").
#include "ui/surface.h"

#include <string>

namespace kestrel {

enum class ImageFormat { Ppm, Png };

void write_screendump(const Surface& surface, const std::string& path, ImageFormat format);

} // namespace kestrel
