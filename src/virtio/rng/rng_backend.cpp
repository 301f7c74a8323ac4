#include "virtio/rng/rng_backend.h"

#include "base/config_error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

namespace kestrel {

RngBackend::RngBackend(std::string id) : id_(std::move(id)) {}

RngBackend::RngBackend(std::string id, const std::string& filename)
    : id_(std::move(id)), file_(::open(filename.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (!file_) throw ConfigError("Could not open '" + filename + "': " + std::strerror(errno));
}

// A short read is fine: the device gives the guest what there is.
size_t RngBackend::read(std::span<uint8_t> out) {
    if (out.empty()) return 0;
    ssize_t n;
    do {
        n = file_ ? ::read(file_.get(), out.data(), out.size()) : ::getrandom(out.data(), out.size(), GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? size_t(n) : 0;
}

std::shared_ptr<RngBackend> RngBackends::find(const std::string& id) const {
    for (const auto& b : list_)
        if (b->id() == id) return b;
    return nullptr;
}

bool RngBackends::remove(const std::string& id) {
    auto it = std::find_if(list_.begin(), list_.end(), [&](const auto& b) { return b->id() == id; });
    if (it == list_.end()) return false;
    list_.erase(it);
    return true;
}

} // namespace kestrel
