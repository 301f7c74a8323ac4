// The event loop's one thread-safe entry (post) from many threads at once,
// and iothreads started and stopped: the threaded paths ThreadSanitizer
// runs over (tests/README.md).
#include "base/event_loop.h"
#include "base/iothread.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <vector>

using namespace kestrel;

TEST_CASE("event loop: posts from four threads all run, in order per thread", "[base][threads]") {
    EventLoop loop;
    constexpr int kThreads = 4, kPosts = 2000;
    std::vector<int> seen(kThreads, -1);
    bool in_order = true;
    int ran = 0;
    std::vector<std::thread> posters;
    for (int t = 0; t < kThreads; ++t)
        posters.emplace_back([&, t] {
            for (int i = 0; i < kPosts; ++i)
                loop.post([&, t, i] {
                    in_order = in_order && seen[t] == i - 1;
                    seen[t] = i;
                    ++ran;
                });
        });
    std::thread runner([&] { loop.run(); });
    for (auto& p : posters) p.join();
    loop.stop();
    runner.join();
    CHECK(ran == kThreads * kPosts);
    CHECK(in_order);
}

TEST_CASE("iothread: work posted to it runs on its thread; stop joins it", "[base][threads]") {
    IoThread io("t1");
    CHECK(io.thread_id() > 0);
    std::promise<int64_t> where;
    io.loop().post([&] { where.set_value(gettid()); });
    CHECK(where.get_future().get() == io.thread_id());
    std::atomic<int> count{0};
    for (int i = 0; i < 1000; ++i) io.loop().post([&] { ++count; });
    std::promise<void> flushed;
    io.loop().post([&] { flushed.set_value(); });
    flushed.get_future().wait();
    CHECK(count == 1000);
    io.stop();
    io.stop();  // idempotent
}

TEST_CASE("iothreads: several start and stop while others post to them", "[base][threads]") {
    for (int round = 0; round < 20; ++round) {
        std::vector<std::unique_ptr<IoThread>> threads;
        for (int i = 0; i < 3; ++i) threads.push_back(std::make_unique<IoThread>("t" + std::to_string(i)));
        std::atomic<int> count{0};
        std::thread poster([&] {
            for (int i = 0; i < 300; ++i) threads[size_t(i % 3)]->loop().post([&] { ++count; });
        });
        poster.join();
        for (auto& t : threads) t->stop();
        CHECK(count == 300);  // stop() runs after what was posted before it
    }
}
