#pragma once
// Temp images and a small driver that submits requests and polls the
// backend's completion fd the way a device's queue thread does.
#include "block/block_backend.h"
#include "block/qcow2/qcow2_create.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace kestrel::test {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/kestrel-block-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string file(const std::string& name) const { return path + "/" + name; }
};

// A sparse file of `size` bytes, optionally with a byte pattern.
inline std::string make_image(const std::string& path, uint64_t size, bool pattern = false) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
    if (pattern) {
        std::vector<uint8_t> data(size);
        for (uint64_t i = 0; i < size; i++) data[i] = static_cast<uint8_t>(i * 7 + i / 4096);
        REQUIRE(pwrite(fd, data.data(), size, 0) == static_cast<ssize_t>(size));
    }
    close(fd);
    return path;
}

// A new qcow2 image as kestrel-img creates it.
inline std::string make_qcow2_image(const std::string& path, const Qcow2CreateOptions& options) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write_new_qcow2(fd, options) == 0);
    close(fd);
    return path;
}

inline std::vector<uint8_t> read_file(const std::string& path, uint64_t offset, size_t len) {
    std::vector<uint8_t> data(len);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(pread(fd, data.data(), len, static_cast<off_t>(offset)) == static_cast<ssize_t>(len));
    close(fd);
    return data;
}

inline std::string open_error(const BlockOpenOptions& options) {
    try {
        open_raw_image(options);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

// Submits requests and collects their results in submission order.
class Driver {
public:
    explicit Driver(BlockBackend& backend) : backend_(backend) {}

    size_t submit(BlockOp op, uint64_t offset, std::vector<iovec> iov, uint64_t length = 0,
                  bool may_unmap = false) {
        size_t index = results_.size();
        results_.push_back(kPending);
        BlockRequest req;
        req.op = op;
        req.offset = offset;
        req.length = length;
        req.iov = std::move(iov);
        req.may_unmap = may_unmap;
        req.done = [this, index](int64_t result) {
            results_[index] = result;
            finished_++;
        };
        backend_.submit(std::move(req));
        return index;
    }

    // Kicks, then polls completion_fd until every request has finished.
    void run() {
        backend_.kick();
        while (finished_ < results_.size()) {
            pollfd p{backend_.completion_fd(), POLLIN, 0};
            REQUIRE(poll(&p, 1, 10000) == 1);
            backend_.process_completions();
        }
    }

    // One request, run to its end.
    int64_t one(BlockOp op, uint64_t offset, std::vector<iovec> iov, uint64_t length = 0,
                bool may_unmap = false) {
        size_t i = submit(op, offset, std::move(iov), length, may_unmap);
        run();
        return results_[i];
    }

    int64_t result(size_t index) const { return results_[index]; }
    size_t finished() const { return finished_; }

    static constexpr int64_t kPending = INT64_MIN;

private:
    BlockBackend& backend_;
    std::vector<int64_t> results_;
    size_t finished_ = 0;
};

inline iovec iov_of(std::vector<uint8_t>& buf, size_t offset = 0, size_t len = SIZE_MAX) {
    return {buf.data() + offset, len == SIZE_MAX ? buf.size() - offset : len};
}

inline uint64_t allocated_bytes(const std::string& path) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
}

} // namespace kestrel::test
