#pragma once
// Process-level concerns of a VMM: -daemonize, -pidfile, -D logging,
// signals that end the guest.
#include "base/unique_fd.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace kestrel {

class EventLoop;

// SIGINT, SIGTERM and SIGHUP blocked and read from a signalfd on `loop`:
// on_signal(signo, sender_pid) for each. The fd must stay open while the
// loop runs. Throws std::runtime_error.
UniqueFd watch_termination_signals(EventLoop& loop, std::function<void(int signo, int sender_pid)> on_signal);

// -daemonize: the caller's process waits in the foreground until the
// daemon reports that start-up succeeded (exit 0) or failed (exit 1), so
// errors are still seen and no half-started daemon is left.
class Daemonizer {
public:
    void detach();              // forks; returns in the daemon only
    void prepare_ready();       // opens /dev/null (before -chroot hides it)
    void report_ready();        // start-up done: detach stdio, release parent
    void report_failure();      // the parent exits 1
    bool active() const { return bool(status_fd_); }

private:
    UniqueFd status_fd_;
    UniqueFd null_fd_;
};

// QEMU's pidfile: created, locked and written; removed at exit.
class PidFile {
public:
    explicit PidFile(std::string path);  // throws std::runtime_error
    ~PidFile();
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

private:
    std::string path_;
    UniqueFd fd_;
};

// The default logger: "<program>: " lines on stderr, or in `logfile` (-D);
// debug level when -d named items. Throws on an unwritable -D file.
void setup_logging(const std::string& program, const std::string& logfile,
                   const std::vector<std::string>& log_items);

// -overcommit mem-lock=on: mlockall(MCL_CURRENT | MCL_FUTURE), as QEMU's
// os_mlock; throws std::runtime_error with QEMU's two lines when refused.
void lock_all_memory();

// Threads started from now on get 1 MiB stacks instead of glibc's 8 MiB.
// Where the host backs anonymous memory with transparent huge pages
// ("always", as Debian's kernel does), an 8 MiB stack that mmap happens to
// place on a 2 MiB boundary is touched at its top at once and costs a whole
// 2 MiB page; a 1 MiB stack cannot hold one. kestrel's threads (vCPUs, disk
// and I/O loops) need far less.
void use_small_thread_stacks();
// Large buffers mapped and unmapped, arenas trimmed, for the whole run
// (glibc otherwise raises both thresholds after the first large free).
void keep_malloc_thresholds_fixed();
// A logger writing to `path` (the -D file, or HMP "logfile"), lines
// prefixed "<program>: ". Throws std::runtime_error("could not open log file ...").
std::shared_ptr<spdlog::logger> open_log_file(const std::string& program, const std::string& path);

} // namespace kestrel
