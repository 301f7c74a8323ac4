#pragma once
// dump-guest-memory as QEMU 7.2 runs it: one dump at a time for the whole
// process (QMP and HMP share it); the VM is stopped ("save-vm") for the
// dump and resumed afterwards if it was running; DUMP_COMPLETED goes out
// at the end, with "error" when it failed; query-dump / "info dump" show
// progress. A detached dump writes on a thread of its own and finishes on
// the loop thread; the monitor goes on meanwhile.
#include "base/unique_fd.h"
#include "monitor/event_sink.h"
#include "monitor/vm_control.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace kestrel {

struct DumpRequest {
    bool paging = false;
    bool detach = false;
    std::optional<int64_t> begin, length;
    std::string format = "elf";   // DumpGuestMemoryFormat
};

struct DumpProgress {
    std::string status = "none";  // none, active, completed, failed
    int64_t completed = 0, total = 0;
};

class GuestDumper {
public:
    // `post` hands work to the loop thread from any thread (EventLoop::post).
    GuestDumper(VmControl& vm, EventSink& events, std::function<void(std::function<void()>)> post);
    ~GuestDumper();   // stops a detached dump's writing and waits for its thread
    GuestDumper(const GuestDumper&) = delete;
    GuestDumper& operator=(const GuestDumper&) = delete;

    // The checks QEMU makes before it opens the target, with its texts.
    void check(const DumpRequest& request) const;
    // Dumps into `target` (already opened: "file:" or "fd:"). Throws
    // MonitorError for what fails before a detached dump's thread starts,
    // and for any failure of a dump that is not detached.
    void start(const DumpRequest& request, UniqueFd target);

    DumpProgress progress() const;
    // query-dump-guest-memory-capability: what really works.
    static std::vector<std::string> formats() { return {"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy"}; }

private:
    struct Job;
    void finish(Job& job, const std::string& error);

    VmControl& vm_;
    EventSink& events_;
    std::function<void(std::function<void()>)> post_;
    std::atomic<int> status_{0};   // index into "none", "active", "completed", "failed"
    std::atomic<int64_t> completed_{0};
    std::atomic<int64_t> total_{0};
    std::shared_ptr<Job> job_;     // the active or last detached dump
    std::thread thread_;
    // Posted completions hold this weakly: none runs after the dumper is gone.
    std::shared_ptr<GuestDumper*> self_;
};

// "file:PATH" opened as QEMU opens it (O_WRONLY|O_CREAT|O_TRUNC, mode 0400),
// or "fd:NAME" through `named_fd` (which throws if there is none); else
// "Invalid parameter 'protocol'".
UniqueFd open_dump_target(const std::string& protocol, const std::function<UniqueFd(const std::string&)>& named_fd);

} // namespace kestrel
