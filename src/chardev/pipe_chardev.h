#pragma once
// -chardev pipe,path=PATH: PATH.in (read) and PATH.out (written) when both
// can be opened, else PATH both ways, as QEMU. Opened read-write, so a
// FIFO never blocks the open and never reports EOF. Output does not block:
// see StreamChardev.
#include "chardev/stream_chardev.h"

namespace kestrel {

class PipeChardev final : public StreamChardev {
public:
    // Throws std::runtime_error("Could not open 'PATH': <strerror>").
    PipeChardev(std::string label, EventLoop& loop, const std::string& path);
    std::string filename() const override { return "pipe"; }
};

} // namespace kestrel
