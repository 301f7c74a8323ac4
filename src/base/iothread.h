#pragma once
// -object iothread,id=X: a thread of its own running an EventLoop, on which
// devices (virtio-blk with iothread=X) serve their queues and complete
// their I/O, away from the main loop. The thread is named "IO X" as QEMU
// names it.
#include "base/event_loop.h"
#include "base/iothread_config.h"

#include <string>
#include <thread>
#include <vector>

namespace kestrel {

class IoThread {
public:
    explicit IoThread(std::string id);
    ~IoThread();  // stop()
    // Stops the loop and joins the thread; the loop object stays, so that
    // devices served on it can still be torn down. Idempotent.
    void stop();
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;

    const std::string& id() const { return id_; }
    EventLoop& loop() { return loop_; }
    // The thread's TID (query-iothreads "thread-id").
    int64_t thread_id() const { return thread_id_; }

private:
    std::string id_;
    EventLoop loop_;
    int64_t thread_id_ = 0;
    std::thread thread_;
};

// The -object iothread threads (not the ones devices make for themselves),
// in command-line order, for query-iothreads.
struct UserIothreads {
    struct Entry {
        IothreadConfig cfg;
        const IoThread* thread;
    };
    std::vector<Entry> list;
};

} // namespace kestrel
