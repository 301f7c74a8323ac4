#include "base/file_bytes.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <unistd.h>

using namespace kestrel;

TEST_CASE("read_file_bytes: whole files of any size, and why others fail", "[base]") {
    const std::string path = "/tmp/kestrel-file-bytes-" + std::to_string(getpid());
    for (size_t size : {size_t(0), size_t(1), size_t(65536), size_t(300000)}) {
        std::vector<uint8_t> data(size);
        for (size_t i = 0; i < size; ++i) data[i] = uint8_t(i * 7 + 3);
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(data.data(), 1, data.size(), f);
        std::fclose(f);
        auto got = read_file_bytes(path);
        REQUIRE(got);
        CHECK(*got == data);
    }
    std::remove(path.c_str());

    FileReadFailure failure{};
    CHECK_FALSE(read_file_bytes(path, &failure));
    CHECK(failure == FileReadFailure::Open);
    CHECK(errno == ENOENT);
    CHECK_FALSE(read_file_bytes("/tmp", &failure));
    CHECK(failure == FileReadFailure::Read);
    CHECK(errno == EISDIR);
    // a size of 0 in stat, contents all the same
    auto status = read_file_bytes("/proc/self/status");
    REQUIRE(status);
    CHECK(std::string(status->begin(), status->end()).find("Name:") == 0);
}
