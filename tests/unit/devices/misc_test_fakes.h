#pragma once
// Fakes shared by the legacy-device tests (serial, rtc, i8042, misc ports).
#include "chardev/chardev.h"
#include "devices/bus_device.h"
#include "base/irq_line.h"
#include "base/machine_control.h"

#include <cstdint>
#include <vector>

namespace kestrel::test {

struct FakeIrq final : IrqLine {
    bool level = false;
    int rising_edges = 0;
    void set_level(bool high) override {
        if (high && !level) ++rising_edges;
        level = high;
    }
};

struct FakeMachineControl final : MachineControl {
    std::vector<ShutdownCause> resets, shutdowns;
    std::vector<int> exits;
    void request_shutdown(ShutdownCause cause) override { shutdowns.push_back(cause); }
    void request_reset(ShutdownCause cause) override { resets.push_back(cause); }
    void request_exit(int status) override { exits.push_back(status); }
    void report_guest_panic() override {}
    void report_guest_crashloaded() override {}
};

struct FakeChardev final : Chardev {
    FakeChardev() : Chardev("fake") {}
    std::string filename() const override { return "fake"; }
    std::vector<uint8_t> written;
    int ready_calls = 0;
    void write(std::span<const uint8_t> data) override { written.insert(written.end(), data.begin(), data.end()); }
    void frontend_ready() override { ++ready_calls; }
    CharFrontend* frontend() const { return frontend_; }
};

inline uint8_t inb(BusDevice& dev, uint64_t offset) {
    uint8_t v = 0;
    dev.read(offset, {&v, 1});
    return v;
}

inline void outb(BusDevice& dev, uint64_t offset, uint8_t v) { dev.write(offset, {&v, 1}); }

} // namespace kestrel::test
