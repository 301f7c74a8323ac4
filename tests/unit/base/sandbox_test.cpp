// -sandbox's filters in a child process each: what a class may do works,
// what it may not kills the process with SIGSYS, QEMU's options move the
// calls they name in or out of the main loop's list.
#include "base/sandbox.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace kestrel;

namespace {

constexpr int kKilledBySeccomp = -SIGSYS;

// Runs `body` in a forked child after installing the filters; returns its
// exit status, or minus the signal that ended it.
int in_sandbox(const SandboxConfig& config, std::optional<ThreadClass> thread_class,
               const std::function<int()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
        rlimit no_core{0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        try {
            enter_sandbox(config);
            if (thread_class) enter_thread_sandbox(*thread_class);
        } catch (...) {
            _exit(100);
        }
        _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

SandboxConfig on() {
    SandboxConfig c;
    c.enable = true;
    return c;
}

int open_dev_null() {
    int fd = open("/dev/null", O_RDONLY);
    return fd >= 0 ? 0 : 1;
}

} // namespace

TEST_CASE("sandbox: the main loop keeps what kestrel does after start-up", "[sandbox]") {
    CHECK(in_sandbox(on(), std::nullopt, [] {
              int fds[2];
              if (pipe2(fds, O_CLOEXEC) != 0 || write(fds[1], "x", 1) != 1) return 1;
              char c;
              if (read(fds[0], &c, 1) != 1 || open_dev_null() != 0) return 2;
              int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
              if (s < 0) return 3;
              close(s);
              int value = 0;
              std::thread t([&] { value = 42; });  // vCPU threads start after the filter
              t.join();
              return value == 42 ? 0 : 4;
          }) == 0);
}

TEST_CASE("sandbox: off installs nothing", "[sandbox]") {
    CHECK(in_sandbox(SandboxConfig{}, ThreadClass::Vcpu, [] {
              return sandbox_active() ? 1 : open_dev_null();
          }) == 0);
}

TEST_CASE("sandbox: a call outside every list kills the process", "[sandbox]") {
    CHECK(in_sandbox(on(), std::nullopt, [] { return int(syscall(SYS_ptrace, 0, 0, 0, 0)); }) == kKilledBySeccomp);
    CHECK(in_sandbox(on(), std::nullopt, [] { return int(syscall(SYS_mount, 0, 0, 0, 0, 0)); }) ==
          kKilledBySeccomp);
}

TEST_CASE("sandbox: vCPU threads cannot open, create sockets or map code", "[sandbox]") {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [&] { return write(fds[1], "x", 1) == 1 ? 0 : 1; }) == 0);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] {
              int more[2];
              return pipe2(more, 0);  // a main-loop call
          }) == kKilledBySeccomp);
    close(fds[0]);
    close(fds[1]);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, open_dev_null) == kKilledBySeccomp);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; }) ==
          kKilledBySeccomp);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] {
              void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
              return p == MAP_FAILED ? 1 : 0;
          }) == 0);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] {
              void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
              return p == MAP_FAILED ? 1 : 0;
          }) == kKilledBySeccomp);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] {
              winsize ws;
              return ioctl(0, TIOCGWINSZ, &ws) == 0 ? 0 : 1;  // not a KVM ioctl
          }) == kKilledBySeccomp);
    CHECK(in_sandbox(on(), ThreadClass::Vcpu, [] {
              return ioctl(-1, _IO(0xAE, 0x80), 0) < 0 && errno == EBADF ? 0 : 1;  // KVM_RUN on no fd
          }) == 0);
}

TEST_CASE("sandbox: iothreads have the event loop and block I/O, not files", "[sandbox]") {
    CHECK(in_sandbox(on(), ThreadClass::Io, [] {
              char buf[8];
              return pread(-1, buf, sizeof buf, 0) < 0 && errno == EBADF ? 0 : 1;
          }) == 0);
    CHECK(in_sandbox(on(), ThreadClass::Io, open_dev_null) == kKilledBySeccomp);
}

TEST_CASE("sandbox: spawn=deny refuses fork and exec, keeps threads", "[sandbox]") {
    auto fork_child = [] {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        return pid > 0 ? 0 : 1;
    };
    CHECK(in_sandbox(on(), std::nullopt, fork_child) == 0);  // QEMU's default: allow
    SandboxConfig deny = on();
    deny.deny_spawn = true;
    CHECK(in_sandbox(deny, std::nullopt, fork_child) == kKilledBySeccomp);
    CHECK(in_sandbox(deny, std::nullopt, [] {
              char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
              execve("/bin/true", argv, environ);
              return 1;
          }) == kKilledBySeccomp);
    CHECK(in_sandbox(deny, std::nullopt, [] {
              std::thread t([] {});
              t.join();
              return 0;
          }) == 0);
}

TEST_CASE("sandbox: elevateprivileges=deny refuses set*id", "[sandbox]") {
    auto set_own_uid = [] { return setuid(getuid()) == 0 ? 0 : 1; };
    CHECK(in_sandbox(on(), std::nullopt, set_own_uid) == 0);
    SandboxConfig deny = on();
    deny.elevate_privileges = SandboxConfig::Privileges::Deny;
    CHECK(in_sandbox(deny, std::nullopt, set_own_uid) == kKilledBySeccomp);
    deny.elevate_privileges = SandboxConfig::Privileges::Children;
    CHECK(in_sandbox(deny, std::nullopt, set_own_uid) == kKilledBySeccomp);
}

TEST_CASE("sandbox: resourcecontrol=deny makes the scheduler calls fail with EPERM", "[sandbox]") {
    auto renice = [] { return setpriority(PRIO_PROCESS, 0, 1) == 0 ? 0 : errno == EPERM ? 2 : 1; };
    CHECK(in_sandbox(on(), std::nullopt, renice) == 0);
    SandboxConfig deny = on();
    deny.deny_resource_control = true;
    CHECK(in_sandbox(deny, std::nullopt, renice) == 2);
    CHECK(in_sandbox(deny, std::nullopt, [] {
              sched_param p{};
              return sched_setscheduler(0, SCHED_IDLE, &p) == 0 ? 0 : 1;  // QEMU lets this one through
          }) == 0);
}

TEST_CASE("sandbox: obsolete=allow lets the obsolete calls through", "[sandbox]") {
    auto sysfs_call = [] { return syscall(SYS_sysfs, 3) >= 0 ? 0 : 1; };  // number of filesystem types
    CHECK(in_sandbox(on(), std::nullopt, sysfs_call) == kKilledBySeccomp);
    SandboxConfig allow = on();
    allow.deny_obsolete = false;
    CHECK(in_sandbox(allow, std::nullopt, sysfs_call) == 0);
}
