#include "base/iothread.h"

#include <future>
#include <pthread.h>
#include <unistd.h>

namespace kestrel {

IoThread::IoThread(std::string id) : id_(std::move(id)) {
    std::promise<int64_t> started;
    auto tid = started.get_future();
    thread_ = std::thread([this] {
        std::string name = ("IO " + id_).substr(0, 15);  // the kernel keeps 15 bytes
        pthread_setname_np(pthread_self(), name.c_str());
        loop_.run();
    });
    // Answered from inside run(): from here on, call() goes to the thread.
    loop_.post([&started] { started.set_value(gettid()); });
    thread_id_ = tid.get();
}

IoThread::~IoThread() { stop(); }

void IoThread::stop() {
    if (!thread_.joinable()) return;
    loop_.stop();
    thread_.join();
}

} // namespace kestrel
