#include "monitor/dump/guest_dumper.h"

#include "monitor/dump/elf_core.h"
#include "monitor/dump/kdump_core.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <vector>

namespace kestrel {

namespace {

constexpr const char* kStatusNames[] = {"none", "active", "completed", "failed"};
enum { kNone, kActive, kCompleted, kFailed };
constexpr uint64_t kChunk = 1 << 20;
constexpr uint64_t CR0_PG = 1u << 31;

// "<what>: <strerror>" as QEMU's error_setg_errno, or "" when all was written.
std::string write_all(int fd, const uint8_t* data, size_t len, const char* what) {
    while (len > 0) {
        ssize_t n = ::write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::string(what) + ": " + std::strerror(n < 0 ? errno : ENOSPC);
        data += n;
        len -= static_cast<size_t>(n);
    }
    return "";
}

} // namespace

struct GuestDumper::Job {
    UniqueFd fd;
    ElfCorePlan plan;
    std::optional<KdumpJob> kdump;   // instead of the ELF core
    bool resume = false;       // the VM ran before the dump
    std::atomic<bool> cancel{false};
};

GuestDumper::GuestDumper(VmControl& vm, EventSink& events, std::function<void(std::function<void()>)> post)
    : vm_(vm), events_(events), post_(std::move(post)), self_(std::make_shared<GuestDumper*>(this)) {}

GuestDumper::~GuestDumper() {
    self_.reset();
    if (job_) job_->cancel = true;
    if (thread_.joinable()) thread_.join();
}

void GuestDumper::check(const DumpRequest& r) const {
    if (status_ == kActive) throw MonitorError("There is a dump in process, please wait.");
    if (r.format != "elf" && (r.paging || r.begin || r.length))
        throw MonitorError("kdump-compressed format doesn't support paging or filter");
    if (r.begin && !r.length) throw MonitorError("Parameter 'length' is missing");
    if (!r.begin && r.length) throw MonitorError("Parameter 'begin' is missing");
    if (r.format != "elf" && !kdump_compression(r.format)) throw MonitorError(r.format + " is not available now");
}

namespace {

// Memory, then the tail; "" or QEMU's error text. Stops early on `cancel`.
std::string write_dump(VmControl& vm, int fd, const ElfCorePlan& plan, std::atomic<int64_t>& completed,
                       const std::atomic<bool>& cancel) {
    std::string err = write_all(fd, plan.head.data(), plan.head.size(), "dump: failed to write elf header");
    std::vector<uint8_t> buf(kChunk);
    for (const RamBlock& b : plan.memory) {
        for (uint64_t done = 0; err.empty() && done < b.size;) {
            if (cancel) return "dump: cancelled";
            size_t n = static_cast<size_t>(std::min(kChunk, b.size - done));
            if (!vm.read_physical(b.gpa + done, std::span(buf.data(), n))) return "dump: failed to save memory";
            err = write_all(fd, buf.data(), n, "dump: failed to save memory");
            done += n;
            completed += static_cast<int64_t>(n);
        }
    }
    if (err.empty()) err = write_all(fd, plan.tail.data(), plan.tail.size(), "dump: failed to write section data");
    return err;
}

// The kdump formats when `kdump` is set, else the ELF core of `plan`.
std::string write_job(VmControl& vm, int fd, const ElfCorePlan& plan, const std::optional<KdumpJob>& kdump,
                      std::atomic<int64_t>& completed, const std::atomic<bool>& cancel) {
    if (kdump) return write_kdump(vm, fd, *kdump, completed, cancel);
    return write_dump(vm, fd, plan, completed, cancel);
}

} // namespace

void GuestDumper::start(const DumpRequest& r, UniqueFd target) {
    if (thread_.joinable()) thread_.join();   // a finished detached dump's thread
    auto job = std::make_shared<Job>();
    job->fd = std::move(target);
    status_ = kActive;
    completed_ = 0;
    total_ = 0;
    job->resume = vm_.status().running;
    if (job->resume) vm_.stop_for_dump();
    auto fail_init = [&](const std::string& text) {
        status_ = kFailed;
        if (job->resume) vm_.resume_after_dump();
        throw MonitorError(text);
    };
    std::optional<DumpRange> filter;
    if (r.begin) filter = DumpRange{static_cast<uint64_t>(*r.begin), static_cast<uint64_t>(*r.length)};
    std::vector<RamBlock> blocks = dump_blocks(vm_.ram_blocks(), filter);
    for (const RamBlock& b : blocks) total_ += static_cast<int64_t>(b.size);
    if (total_ == 0) fail_init("dump: no guest memory to dump");
    std::vector<CpuDumpState> cpus = vm_.cpu_dump_states();
    // A guest with paging on would need its page tables walked: not done.
    if (r.paging)
        for (const CpuDumpState& c : cpus)
            if (c.cr[0] & CR0_PG) fail_init("this feature or command is not currently supported");
    if (std::optional<uint32_t> compression = kdump_compression(r.format))
        job->kdump = KdumpJob{elf_core_notes(cpus), static_cast<uint32_t>(cpus.size()), blocks, *compression};
    else
        job->plan = plan_elf_core(cpus, blocks);
    job_ = job;
    if (!r.detach) {
        std::string err = write_job(vm_, job->fd.get(), job->plan, job->kdump, completed_, job->cancel);
        finish(*job, err);
        if (!err.empty()) throw MonitorError(err);
        return;
    }
    thread_ = std::thread([this, job, self = std::weak_ptr<GuestDumper*>(self_)] {
        std::string err = write_job(vm_, job->fd.get(), job->plan, job->kdump, completed_, job->cancel);
        post_([job, self, err] {
            if (auto alive = self.lock()) (*alive)->finish(*job, err);
        });
    });
}

// As QEMU's dump_process and dump_cleanup: the status, DUMP_COMPLETED, the
// file closed, then the VM resumed.
void GuestDumper::finish(Job& job, const std::string& error) {
    status_ = error.empty() ? kCompleted : kFailed;
    DumpProgress p = progress();
    nlohmann::json data{{"result", {{"status", p.status}, {"completed", p.completed}, {"total", p.total}}}};
    if (!error.empty()) data["error"] = error;
    events_.emit_event("DUMP_COMPLETED", data);
    job.fd.reset();
    if (job.resume) vm_.resume_after_dump();
}

DumpProgress GuestDumper::progress() const {
    DumpProgress p;
    p.status = kStatusNames[status_.load()];
    p.completed = completed_;
    p.total = total_;
    return p;
}

UniqueFd open_dump_target(const std::string& protocol, const std::function<UniqueFd(const std::string&)>& named_fd) {
    if (protocol.rfind("fd:", 0) == 0) return named_fd(protocol.substr(3));
    if (protocol.rfind("file:", 0) == 0) {
        std::string path = protocol.substr(5);
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400));
        if (!fd) throw MonitorError("Could not open '" + path + "': " + std::strerror(errno));
        return fd;
    }
    throw MonitorError("Invalid parameter 'protocol'");
}

} // namespace kestrel
