#include "chardev/pipe_chardev.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {

namespace {
int open_rw(const std::string& path) { return ::open(path.c_str(), O_RDWR | O_CLOEXEC); }
} // namespace

PipeChardev::PipeChardev(std::string label, EventLoop& loop, const std::string& path)
    : StreamChardev(std::move(label), loop) {
    int in = open_rw(path + ".in");
    int out = open_rw(path + ".out");
    if (in < 0 || out < 0) {
        if (in >= 0) close(in);
        if (out >= 0) close(out);
        in = out = open_rw(path);
        if (in < 0) throw std::runtime_error("Could not open '" + path + "': " + std::strerror(errno));
    }
    connect_fds(in, out);
}

} // namespace kestrel
