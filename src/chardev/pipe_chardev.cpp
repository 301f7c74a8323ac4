#include "chardev/pipe_chardev.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {

namespace {
UniqueFd open_rw(const std::string& path) { return UniqueFd(::open(path.c_str(), O_RDWR | O_CLOEXEC)); }
} // namespace

PipeChardev::PipeChardev(std::string label, EventLoop& loop, const std::string& path)
    : StreamChardev(std::move(label), loop) {
    UniqueFd in = open_rw(path + ".in");
    UniqueFd out = open_rw(path + ".out");
    if (in && out) {
        connect_fds(std::move(in), std::move(out));
        return;
    }
    in.reset();
    out.reset();
    UniqueFd both = open_rw(path);
    if (!both) throw std::runtime_error("Could not open '" + path + "': " + std::strerror(errno));
    connect_fd(std::move(both));
}

} // namespace kestrel
