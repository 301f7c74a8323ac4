#include "base/unique_fd.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>

using namespace kestrel;

namespace {

// A pipe whose write end the test hands to a UniqueFd: the read end sees
// a hang-up exactly when every copy of the write end is closed, whatever
// number the kernel gives the next fd.
struct Pipe {
    UniqueFd read_end;
    int write_end = -1;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        read_end.reset(fds[0]);
        write_end = fds[1];
    }
    bool writer_closed() const {
        pollfd p{read_end.get(), POLLIN, 0};
        return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
    }
};

} // namespace

TEST_CASE("UniqueFd: closes its fd when destroyed, not before", "[base]") {
    Pipe p;
    {
        UniqueFd fd(p.write_end);
        CHECK(fd);
        CHECK(fd.get() == p.write_end);
        CHECK_FALSE(p.writer_closed());
    }
    CHECK(p.writer_closed());
}

TEST_CASE("UniqueFd: an empty one owns nothing", "[base]") {
    UniqueFd fd;
    CHECK_FALSE(fd);
    CHECK(fd.get() == -1);
    fd.reset();
    CHECK(fd.release() == -1);
}

TEST_CASE("UniqueFd: reset closes the old fd and adopts the new one", "[base]") {
    Pipe a, b;
    UniqueFd fd(a.write_end);
    fd.reset(b.write_end);
    CHECK(a.writer_closed());
    CHECK_FALSE(b.writer_closed());
    CHECK(fd.get() == b.write_end);
    fd.reset();
    CHECK(b.writer_closed());
    CHECK_FALSE(fd);
}

TEST_CASE("UniqueFd: moves hand ownership over; move-assignment closes the target's fd", "[base]") {
    Pipe a, b;
    UniqueFd first(a.write_end);
    UniqueFd second(std::move(first));
    CHECK_FALSE(first);
    CHECK(second.get() == a.write_end);
    CHECK_FALSE(a.writer_closed());

    UniqueFd third(b.write_end);
    third = std::move(second);
    CHECK(b.writer_closed());
    CHECK_FALSE(a.writer_closed());
    CHECK(third.get() == a.write_end);

    auto& alias = third;
    third = std::move(alias);  // self-move keeps the fd
    CHECK_FALSE(a.writer_closed());
    CHECK(third.get() == a.write_end);
}

TEST_CASE("UniqueFd: release gives the fd up without closing it", "[base]") {
    Pipe p;
    int raw;
    {
        UniqueFd fd(p.write_end);
        raw = fd.release();
        CHECK_FALSE(fd);
    }
    CHECK(raw == p.write_end);
    CHECK_FALSE(p.writer_closed());
    UniqueFd again(raw);
    again.reset();
    CHECK(p.writer_closed());
}
