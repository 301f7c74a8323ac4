#include "block/block_backend.h"
#include "block_test_util.h"
#include "base/unique_fd.h"
#include "block/image_file.h"
#include "block/image_lock.h"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

using namespace kestrel;
using namespace kestrel::test;

namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";

BlockOpenOptions options_for(const std::string& path, bool read_only = false, bool snapshot = false) {
    BlockOpenOptions options;
    options.path = path;
    options.read_only = read_only;
    options.snapshot = snapshot;
    return options;
}

std::string hint(const std::string& path) {
    return "\nIs another process using the image [" + path + "]?";
}

std::string run_and_capture(const std::string& command) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 512> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
    pclose(pipe);
    return output;
}

// Whether another open of the file holds a lock on `byte`, asked without
// taking one: a probing open that locked would make a qemu that starts at
// that moment fail on our lock and exit.
bool byte_locked(const std::string& path, int byte) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = byte;
    fl.l_len = 1;
    return fd && fcntl(fd.get(), F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

} // namespace

TEST_CASE("open_raw_image reports QEMU's errors for missing files and directories", "[block]") {
    TempDir dir;
    std::string missing = dir.file("missing.img");
    CHECK(open_error(options_for(missing)) == "Could not open '" + missing + "': No such file or directory");
    CHECK(open_error(options_for(missing, true)) ==
          "Could not open '" + missing + "': No such file or directory");
    CHECK(open_error(options_for(dir.path)) == "'file' driver requires '" + dir.path + "' to be a regular file");
}

TEST_CASE("open_raw_image takes the size from the file", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 3 * 1024 * 1024 + 4096);
    auto disk = open_raw_image(options_for(path));
    CHECK(disk->size() == 3 * 1024 * 1024 + 4096);
    CHECK(disk->path() == path);
    CHECK_FALSE(disk->read_only());
}

TEST_CASE("image locks refuse a second writer and readers beside a writer, as QEMU", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 1 << 20);
    {
        auto writer = open_raw_image(options_for(path));
        CHECK(open_error(options_for(path)) == "Failed to get \"write\" lock" + hint(path));
        CHECK(open_error(options_for(path, true)) == "Failed to get shared \"write\" lock" + hint(path));
        std::string snapshot_error;
        try {
            open_image_backend(options_for(path, false, true), "raw");
        } catch (const std::runtime_error& e) {
            snapshot_error = e.what();
        }
        CHECK(snapshot_error == "Failed to get shared \"write\" lock" + hint(path));
        BlockOpenOptions unlocked = options_for(path);
        unlocked.lock = false;
        CHECK(open_error(unlocked).empty());
    }
    {
        auto reader = open_raw_image(options_for(path, true));
        CHECK(open_error(options_for(path, true)).empty());  // readers share
        CHECK(open_error(options_for(path)) == "Failed to get \"write\" lock" + hint(path));
    }
    auto snapshot = open_image_backend(options_for(path, false, true), "raw");
    CHECK(open_error(options_for(path)) == "Failed to get \"write\" lock" + hint(path));
    CHECK(open_error(options_for(path, true)).empty());
    snapshot.reset();
    CHECK(open_error(options_for(path)).empty());  // closing released every lock
}

TEST_CASE("an image's locks go with it even while its file is still referenced elsewhere", "[block]") {
    // A completed io_uring request may hold the file a moment after close(),
    // as this dup does: a reopen of the image must not see the old locks.
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 1 << 20);
    UniqueFd lingering;
    {
        ImageFile file = open_image_file(path, true, CacheMode::Writeback);
        file.lock = lock_image(file.fd.get(), path, drive_permissions(true, false));
        lingering.reset(dup(file.fd.get()));
        REQUIRE(lingering);
        CHECK(open_error(options_for(path)) == "Failed to get \"write\" lock" + hint(path));
    }
    CHECK(open_error(options_for(path)).empty());
}

TEST_CASE("snapshot=on sends writes to a temporary overlay and leaves the image untouched", "[block]") {
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 1 << 20, true);
    std::vector<uint8_t> original = read_file(path, 0, 1 << 20);
    auto disk = open_image_backend(options_for(path, false, true), "raw");
    CHECK(disk->summary().format == "qcow2");
    CHECK(disk->summary().backing_format == "raw");
    CHECK_FALSE(disk->read_only());
    CHECK(disk->size() == 1 << 20);
    Driver io(*disk);
    std::vector<uint8_t> data(8192, 0xab);
    REQUIRE(io.one(BlockOp::Write, 4096, {iov_of(data)}) == 8192);
    REQUIRE(io.one(BlockOp::Flush, 0, {}) == 0);
    std::vector<uint8_t> back(3 * 4096);
    REQUIRE(io.one(BlockOp::Read, 0, {iov_of(back)}) == 3 * 4096);
    CHECK(std::equal(back.begin(), back.begin() + 4096, original.begin()));
    CHECK(std::vector<uint8_t>(back.begin() + 4096, back.end()) == data);
    disk.reset();
    CHECK(read_file(path, 0, 1 << 20) == original);
}

TEST_CASE("kestrel and qemu-system-x86_64 refuse each other's writable image", "[block]") {
    if (access(kQemu, X_OK) != 0) {
        WARN("skipped: no " << kQemu);
        return;
    }
    TempDir dir;
    std::string path = make_image(dir.file("disk.img"), 1 << 20);
    std::string drive = "file=" + path + ",format=raw,if=virtio";
    SECTION("qemu first") {
        const char* argv[] = {kQemu, "-display", "none", "-nodefaults", "-S", "-drive", drive.c_str(), nullptr};
        posix_spawn_file_actions_t quiet;
        posix_spawn_file_actions_init(&quiet);
        posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int spawned = posix_spawn(&pid, kQemu, &quiet, nullptr, const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&quiet);
        REQUIRE(spawned == 0);
        // Until qemu holds its write lock (byte 101) or has died: no fixed
        // window, a busy machine may take long to start it.
        bool qemu_alive = true;
        for (int i = 0; i < 6000 && !byte_locked(path, 101) && qemu_alive; i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            qemu_alive = waitpid(pid, nullptr, WNOHANG) == 0;
        }
        REQUIRE(qemu_alive);
        std::string error = open_error(options_for(path));
        std::string reader_error = open_error(options_for(path, true));
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        CHECK(error == "Failed to get \"write\" lock" + hint(path));
        CHECK(reader_error == "Failed to get shared \"write\" lock" + hint(path));
    }
    SECTION("kestrel first") {
        auto writer = open_raw_image(options_for(path));
        std::string out = run_and_capture(std::string("timeout 20 ") + kQemu +
                                          " -display none -nodefaults -S -drive " + drive + " 2>&1");
        CHECK(out == "qemu-system-x86_64: -drive " + drive + ": Failed to get \"write\" lock" + hint(path) + "\n");
        out = run_and_capture(std::string("timeout 20 ") + kQemu + " -display none -nodefaults -S -drive " +
                              drive + ",readonly=on 2>&1");
        CHECK(out.find("Failed to get shared \"write\" lock" + hint(path)) != std::string::npos);
    }
    SECTION("kestrel reader beside qemu reader") {
        auto reader = open_raw_image(options_for(path, true));
        std::string out = run_and_capture(std::string("timeout 3 ") + kQemu + " -display none -nodefaults -S -drive " +
                                          drive + ",readonly=on 2>&1");
        CHECK(out.find("lock") == std::string::npos);  // ran until the timeout, no lock error
    }
}
