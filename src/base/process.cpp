#include "base/process.h"

#include "base/messages.h"

#include "base/event_loop.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel {

void Daemonizer::detach() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid > 0) {  // the foreground process: wait for the daemon's word
        write_end.reset();
        char status = 1;
        ssize_t n;
        do n = read(read_end.get(), &status, 1); while (n < 0 && errno == EINTR);
        _exit(n == 1 && status == 0 ? 0 : 1);
    }
    read_end.reset();
    setsid();
    if (fork() > 0) _exit(0);  // not a session leader: never gets a terminal again
    status_fd_ = std::move(write_end);
    umask(027);
}

void Daemonizer::prepare_ready() {
    if (status_fd_ && !null_fd_) null_fd_.reset(open("/dev/null", O_RDWR | O_CLOEXEC));
}

void Daemonizer::report_ready() {
    if (!status_fd_) return;
    prepare_ready();
    UniqueFd null = std::move(null_fd_);
    if (null) {
        dup2(null.get(), STDIN_FILENO);
        dup2(null.get(), STDOUT_FILENO);
        dup2(null.get(), STDERR_FILENO);
        if (null.get() <= STDERR_FILENO) (void)null.release();  // it is one of stdio now: keep it
    }
    [[maybe_unused]] int r = chdir("/");
    char ok = 0;
    [[maybe_unused]] auto n = write(status_fd_.get(), &ok, 1);
    status_fd_.reset();
}

void Daemonizer::report_failure() {
    if (!status_fd_) return;
    char bad = 1;
    [[maybe_unused]] auto n = write(status_fd_.get(), &bad, 1);
    status_fd_.reset();
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
    fd_.reset(open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_)
        throw std::runtime_error("cannot create PID file: Cannot open pid file: " + std::string(std::strerror(errno)));
    if (lockf(fd_.get(), F_TLOCK, 0) != 0)
        throw std::runtime_error("cannot create PID file: Cannot lock pid file: " + std::string(std::strerror(errno)));
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_.get(), 0) != 0 || write(fd_.get(), pid.data(), pid.size()) != ssize_t(pid.size()))
        throw std::runtime_error("cannot create PID file: Failed to write pid file: " + std::string(std::strerror(errno)));
}

PidFile::~PidFile() {
    if (!fd_) return;
    unlink(path_.c_str());
    fd_.reset();
}

std::shared_ptr<spdlog::logger> open_log_file(const std::string& program, const std::string& path) {
    std::shared_ptr<spdlog::logger> logger;
    try {
        auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
        logger = std::make_shared<spdlog::logger>("kestrel", sink);
    } catch (const spdlog::spdlog_ex& e) {
        throw std::runtime_error("could not open log file '" + path + "': " + e.what());
    }
    logger->set_pattern(program + ": %v");
    logger->flush_on(spdlog::level::info);
    return logger;
}

void lock_all_memory() {
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        throw std::runtime_error(std::string("mlockall: ") + std::strerror(errno) + "\nlocking memory failed");
}

void use_small_thread_stacks() {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    if (pthread_attr_setstacksize(&attr, 1 << 20) == 0) pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
}

// glibc raises its mmap threshold (up to 32 MiB) and trim threshold (twice
// that) after a large buffer is freed, e.g. by the kernel cache's
// decompressor: from then on buffers of up to 32 MiB come from a thread's
// arena and freed space stays in it; with transparent huge pages "always"
// a few live KiB there keep a 2 MiB page. Setting the threshold to glibc's
// default keeps it fixed: large buffers are mapped and unmapped, and arenas
// give back their free top.
void keep_malloc_thresholds_fixed() { mallopt(M_MMAP_THRESHOLD, 128 * 1024); }

void setup_logging(const std::string& program, const std::string& logfile,
                   const std::vector<std::string>& log_items) {
    std::shared_ptr<spdlog::logger> logger;
    if (!logfile.empty()) {
        logger = open_log_file(program, logfile);
    } else {
        logger = spdlog::stderr_logger_mt("kestrel");
        logger->set_pattern(message_prefix_pattern() + program + ": %v", spdlog::pattern_time_type::utc);
    }
    // Guest misbehaviour is logged at debug level: shown with -d guest_errors/unimp.
    logger->set_level(log_items.empty() ? spdlog::level::warn : spdlog::level::debug);
    spdlog::set_default_logger(logger);
}

UniqueFd watch_termination_signals(EventLoop& loop, std::function<void(int signo, int sender_pid)> on_signal) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    int raw = fd.get();
    loop.add_fd(raw, EPOLLIN, [raw, on_signal = std::move(on_signal)](uint32_t) {
        signalfd_siginfo info{};
        while (read(raw, &info, sizeof info) == sizeof info) on_signal(int(info.ssi_signo), int(info.ssi_pid));
    });
    return fd;
}

} // namespace kestrel
