#pragma once
// -serial file:PATH / -chardev file,path=PATH[,append=on]: output to a file,
// created (mode 0666 less umask) when the chardev is opened and truncated
// unless appending. No input.
#include "chardev/fd_chardev.h"

namespace kestrel {

class FileChardev final : public FdChardev {
public:
    // Throws std::runtime_error("Could not open 'PATH': <strerror>").
    FileChardev(std::string label, EventLoop& loop, const std::string& path, bool append);
    std::string filename() const override { return "file"; }
};

} // namespace kestrel
