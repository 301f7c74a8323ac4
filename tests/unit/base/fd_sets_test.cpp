#include "base/fd_sets.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace kestrel;

namespace {

// A temporary file holding `text`, open with `mode` and put into set `id`.
struct SetWithFile {
    std::string path;
    int64_t id;
    SetWithFile(int64_t set_id, int mode, const std::string& text) : id(set_id) {
        char name[] = "/tmp/kestrel-fdset-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, text.data(), text.size()) == ssize_t(text.size()));
        close(fd);
        path = name;
        fd_sets()[id].fds.push_back({UniqueFd(::open(name, mode | O_CLOEXEC)), std::nullopt});
    }
    ~SetWithFile() {
        fd_sets().erase(id);
        unlink(path.c_str());
    }
    off_t size() const {
        struct stat st {};
        stat(path.c_str(), &st);
        return st.st_size;
    }
};

} // namespace

TEST_CASE("fd sets: /dev/fdset/N gives a copy of the set's fd with the asked access mode", "[fdset]") {
    SetWithFile s(41, O_WRONLY, "old");
    UniqueFd fd = dup_from_fdset("/dev/fdset/41", O_WRONLY | O_APPEND);
    REQUIRE(fd);
    CHECK((fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((fcntl(fd.get(), F_GETFL) & O_APPEND) != 0);
    CHECK(write(fd.get(), "new", 3) == 3);
    CHECK(s.size() == 6);  // appended, not truncated
}

TEST_CASE("fd sets: O_TRUNC truncates as open() would", "[fdset]") {
    SetWithFile s(42, O_WRONLY, "old contents");
    UniqueFd fd = dup_from_fdset("/dev/fdset/42", O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(fd);
    CHECK(s.size() == 0);
}

TEST_CASE("fd sets: no fd with the access mode, no set, a malformed path", "[fdset]") {
    SetWithFile s(43, O_RDONLY, "x");
    errno = 0;
    CHECK_FALSE(dup_from_fdset("/dev/fdset/43", O_WRONLY));
    CHECK(errno == EACCES);
    for (const char* path : {"/dev/fdset/44", "/dev/fdset/", "/dev/fdset/4x3", "/dev/fdset/-43",
                             "/dev/fdset/99999999999999999999999"}) {
        errno = 0;
        CHECK_FALSE(dup_from_fdset(path, O_RDONLY));
        CHECK(errno == ENOENT);
    }
    CHECK(is_fdset_path("/dev/fdset/1"));
    CHECK_FALSE(is_fdset_path("/dev/fdsetx/1"));
}
