// The display service: listeners hear of new sizes and drawn rectangles on
// the display thread; nothing runs without listeners; changed() wakes it.
#include "ui/display_service.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace kestrel;

namespace {

struct Source : DisplaySource {
    std::mutex lock;
    int width = 100, height = 50;
    uint32_t colour = 0;
    bool dirty = true;
    int renders = 0;
    void render(Surface& s, bool full, std::vector<Rect>& damage) override {
        std::lock_guard guard(lock);
        ++renders;
        if (s.width() != width || s.height() != height) {
            s.resize(width, height);
            full = true;
        }
        if (!full && !dirty) return;
        std::fill_n(s.data(), size_t(width) * size_t(height), colour);
        damage.push_back(s.bounds());
        dirty = false;
    }
    Wakeup wakeup() const override { return {}; }
};

struct Listener : DisplayListener {
    std::mutex lock;
    std::condition_variable cv;
    int resizes = 0, updates = 0;
    uint32_t last_pixel = 0;
    int last_width = 0;
    void display_resized(const Surface& s) override {
        std::lock_guard guard(lock);
        ++resizes;
        last_width = s.width();
        last_pixel = s.row(0)[0];
        cv.notify_all();
    }
    void display_updated(const Surface& s, std::span<const Rect>) override {
        std::lock_guard guard(lock);
        ++updates;
        last_pixel = s.row(0)[0];
        cv.notify_all();
    }
    template <typename Pred> bool wait(Pred pred) {
        std::unique_lock guard(lock);
        return cv.wait_for(guard, std::chrono::seconds(30), pred);
    }
};

} // namespace

TEST_CASE("display: a listener gets the picture, then updates after changed()", "[display]") {
    DisplayService displays;
    Source source;
    Console& console = displays.add_console("vga0", "/machine/peripheral/vga0", source);
    Listener listener;
    displays.add_listener(console, listener);
    REQUIRE(listener.wait([&] { return listener.resizes == 1; }));
    CHECK(listener.last_width == 100);
    {
        std::lock_guard guard(source.lock);
        source.colour = 0x123456;
        source.dirty = true;
    }
    console.changed();
    REQUIRE(listener.wait([&] { return listener.updates >= 1; }));
    CHECK(listener.last_pixel == 0x123456);
    {
        std::lock_guard guard(source.lock);
        source.width = 200;
    }
    console.changed();
    REQUIRE(listener.wait([&] { return listener.resizes == 2; }));
    CHECK(listener.last_width == 200);
    displays.remove_listener(listener);
    displays.stop();
}

TEST_CASE("display: nothing renders while nobody listens; snapshot renders on demand", "[display]") {
    DisplayService displays;
    Source source;
    Console& console = displays.add_console("", "/machine/unattached/device[3]", source);
    console.changed();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(source.renders == 0);
    Surface s = console.snapshot();
    CHECK(s.width() == 100);
    CHECK(source.renders == 1);
    CHECK(displays.find("", 0) == nullptr);  // found by qdev id only
}

TEST_CASE("display: a resized surface has a new black buffer; the old one lives on with its holders", "[display]") {
    Surface s(64, 32);
    std::fill_n(s.data(), 64 * 32, 0x00abcdefu);
    std::shared_ptr<uint32_t[]> held = s.buffer();  // as the VNC server holds the picture it serves
    s.resize(1280, 800);
    REQUIRE(s.data() != held.get());
    REQUIRE((s.width() == 1280 && s.height() == 800));
    REQUIRE(std::all_of(s.data(), s.data() + 1280 * 800, [](uint32_t p) { return p == 0; }));
    REQUIRE(std::all_of(held.get(), held.get() + 64 * 32, [](uint32_t p) { return p == 0x00abcdefu; }));
    s.resize(0, 99999);  // clamped to QEMU's limits
    REQUIRE((s.width() == 1 && s.height() == Surface::kMaxHeight));
}
