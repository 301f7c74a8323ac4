#include "machine/boot/file_bytes.h"
#include "tests/unit/machine/bzimage_fixture.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

using kestrel::FileBytes;
using kestrel::test::TempFile;

namespace {

// Resident KiB of the mapping that holds `p`, from /proc/self/smaps.
long resident_kib_at(const void* p) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    const auto addr = reinterpret_cast<uintptr_t>(p);
    while (std::getline(smaps, line)) {
        uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (line.find('-') != std::string::npos && (head >> std::hex >> lo >> dash >> hi) && dash == '-') {
            inside = addr >= lo && addr < hi;
        } else if (inside && line.rfind("Rss:", 0) == 0) {
            return std::stol(line.substr(4));
        }
    }
    return -1;
}

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + (i >> 12));
    return v;
}

} // namespace

TEST_CASE("FileBytes maps a file; release_pages takes it out of RSS and the bytes stay", "[boot]") {
    const std::vector<uint8_t> content = pattern(1 << 20);
    TempFile file(content);
    std::shared_ptr<const FileBytes> bytes;
    REQUIRE(FileBytes::open(file.path(), bytes) == 0);
    REQUIRE(bytes->size() == content.size());
    CHECK(std::equal(bytes->begin(), bytes->end(), content.begin()));
    CHECK(resident_kib_at(bytes->data()) >= 1024);
    bytes->release_pages();
    CHECK(resident_kib_at(bytes->data()) == 0);
    CHECK(std::equal(bytes->begin(), bytes->end(), content.begin()));  // read again from the page cache
    CHECK_FALSE(bytes->changed_on_disk());
}

TEST_CASE("FileBytes sees a file rewritten in place", "[boot]") {
    TempFile file(pattern(8192));
    std::shared_ptr<const FileBytes> bytes;
    REQUIRE(FileBytes::open(file.path(), bytes) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later mtime on coarse clocks
    std::ofstream(file.path(), std::ios::binary | std::ios::trunc) << "shorter";
    CHECK(bytes->changed_on_disk());
}

TEST_CASE("FileBytes: empty files, pipes, folders and missing files", "[boot]") {
    TempFile empty(std::vector<uint8_t>{});
    std::shared_ptr<const FileBytes> bytes;
    REQUIRE(FileBytes::open(empty.path(), bytes) == 0);
    CHECK(bytes->empty());
    CHECK(FileBytes::open("/nonexistent/kernel", bytes) == ENOENT);
    CHECK(FileBytes::open("/tmp", bytes) == EISDIR);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    REQUIRE(write(fds[1], "abc", 3) == 3);
    close(fds[1]);
    REQUIRE(FileBytes::open("/proc/self/fd/" + std::to_string(fds[0]), bytes) == 0);  // read, not mapped
    close(fds[0]);
    CHECK(std::string(bytes->begin(), bytes->end()) == "abc");
    bytes->release_pages();  // held in memory: nothing to drop
    CHECK(std::string(bytes->begin(), bytes->end()) == "abc");
    CHECK_FALSE(bytes->changed_on_disk());
}
