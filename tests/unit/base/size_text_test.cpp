// size_to_str against the values QEMU 7.2's size_to_str prints (it scales
// by 1000/1024 in doubles; kestrel does the same in integers).
#include "base/size_text.h"

#include <catch2/catch.hpp>

using kestrel::size_to_str;

TEST_CASE("size_to_str: QEMU's units and digits") {
    CHECK(size_to_str(0) == "0 B");
    CHECK(size_to_str(512) == "512 B");
    CHECK(size_to_str(999) == "999 B");
    CHECK(size_to_str(1000) == "0.977 KiB");  // from 1000 of a unit, the next one
    CHECK(size_to_str(1024) == "1 KiB");
    CHECK(size_to_str(196 * 1024) == "196 KiB");
    CHECK(size_to_str(1000 * 1024) == "0.977 MiB");
    CHECK(size_to_str(999 * 1024) == "999 KiB");
    CHECK(size_to_str(1ull << 30) == "1 GiB");
    CHECK(size_to_str(10ull << 30) == "10 GiB");
    CHECK(size_to_str(1000ull << 50) == "0.977 EiB");
    CHECK(size_to_str(UINT64_MAX) == "16 EiB");
}
