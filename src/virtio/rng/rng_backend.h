#pragma once
// The entropy sources a virtio-rng reads (QEMU's rng-backend objects):
// rng-random, a file opened once when the object is created (default
// /dev/urandom), and rng-builtin, the kernel's getrandom(2). Neither
// blocks: a read that would wait returns what it has (maybe nothing).
#include "base/unique_fd.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kestrel {

class RngBackend {
public:
    // rng-builtin.
    explicit RngBackend(std::string id);
    // rng-random: opens `filename` now (throws ConfigError with QEMU's
    // "Could not open 'F': REASON").
    RngBackend(std::string id, const std::string& filename);

    // Fills the front of `out`; returns how many bytes it filled.
    size_t read(std::span<uint8_t> out);

    const std::string& id() const { return id_; }
    bool builtin() const { return !file_; }

private:
    std::string id_;
    UniqueFd file_;
};

// The rng backends that exist (the command line's, then object-add's),
// which virtio-rng's rng= names. A device keeps its backend alive after
// object-del, as QEMU's strong link does.
class RngBackends {
public:
    void add(std::shared_ptr<RngBackend> backend) { list_.push_back(std::move(backend)); }
    std::shared_ptr<RngBackend> find(const std::string& id) const;
    bool remove(const std::string& id);

private:
    std::vector<std::shared_ptr<RngBackend>> list_;
};

} // namespace kestrel
