// USB: the tablet's control pipe and reports, the UHCI schedule walked in
// guest memory (a real enumeration, then schedules a misbehaving guest
// could build: loops, descriptors outside RAM, bad PIDs, absurd
// registers), and the buses' port bookkeeping.
#include "base/event_loop.h"
#include "devices/usb/tablet/usb_tablet.h"
#include "devices/usb/uhci/uhci.h"
#include "devices/usb/usb_bus.h"
#include "fake_usb_controller.h"
#include "kvm/guest_memory.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

using namespace kestrel;

namespace {

using Status = UsbDevice::Status;

std::vector<uint8_t> setup_packet(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint16_t length) {
    return {type, request, uint8_t(value), uint8_t(value >> 8), uint8_t(index), uint8_t(index >> 8),
            uint8_t(length), uint8_t(length >> 8)};
}

// A whole control IN transfer in 8-byte packets; empty when it stalled.
std::vector<uint8_t> control_in(UsbDevice& d, uint8_t type, uint8_t request, uint16_t value, uint16_t index,
                                uint16_t length) {
    auto setup = setup_packet(type, request, value, index, length);
    if (d.transaction(usb::PID_SETUP, 0, setup).status != Status::Ack) return {};
    std::vector<uint8_t> out;
    for (;;) {
        uint8_t packet[8];
        auto r = d.transaction(usb::PID_IN, 0, packet);
        if (r.status != Status::Ack) return {};
        out.insert(out.end(), packet, packet + r.length);
        if (r.length < 8) break;
    }
    std::vector<uint8_t> none;
    CHECK(d.transaction(usb::PID_OUT, 0, none).status == Status::Ack);
    return out;
}

Status control_out(UsbDevice& d, uint8_t type, uint8_t request, uint16_t value) {
    auto setup = setup_packet(type, request, value, 0, 0);
    if (auto r = d.transaction(usb::PID_SETUP, 0, setup); r.status != Status::Ack) return r.status;
    std::vector<uint8_t> none;
    return d.transaction(usb::PID_IN, 0, none).status;
}

void enumerate(UsbTablet& t, uint8_t address) {
    REQUIRE(control_out(t, 0x00, usb::REQ_SET_ADDRESS, address) == Status::Ack);
    REQUIRE(control_out(t, 0x00, usb::REQ_SET_CONFIGURATION, 1) == Status::Ack);
}

void move(UsbTablet& t, int64_t x, int64_t y) {
    t.input_event(InputEvent::abs(InputAxis::X, x));
    t.input_event(InputEvent::abs(InputAxis::Y, y));
    t.input_sync();
}

} // namespace

TEST_CASE("usb-tablet describes itself as QEMU's tablet", "[usb]") {
    UsbTablet t;
    auto device = control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_DEVICE << 8, 0, 18);
    REQUIRE(device.size() == 18);
    CHECK((device[8] | device[9] << 8) == 0x0627);
    CHECK((device[10] | device[11] << 8) == 0x0001);
    auto config = control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_CONFIG << 8, 0, 255);
    REQUIRE(config.size() == 34);
    CHECK(config[9 + 5] == 3);  // interface class HID
    auto report = control_in(t, 0x81, usb::REQ_GET_DESCRIPTOR, 0x22 << 8, 0, 255);
    CHECK(std::equal(report.begin(), report.end(), usb_tablet_report_descriptor().begin(),
                     usb_tablet_report_descriptor().end()));
    auto product = control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_STRING << 8 | 2, 0x409, 255);
    REQUIRE(product.size() == 2 + 2 * 15);
    CHECK(product[2] == 'Q');
    // A short wLength truncates; an absurd one gives only what exists.
    CHECK(control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_DEVICE << 8, 0, 8).size() == 8);
    CHECK(control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_DEVICE << 8, 0, 0xffff).size() == 18);
}

TEST_CASE("usb-tablet: the address takes effect after the status stage", "[usb]") {
    UsbTablet t;
    auto setup = setup_packet(0x00, usb::REQ_SET_ADDRESS, 5, 0, 0);
    REQUIRE(t.transaction(usb::PID_SETUP, 0, setup).status == Status::Ack);
    CHECK(t.address() == 0);
    std::vector<uint8_t> none;
    REQUIRE(t.transaction(usb::PID_IN, 0, none).status == Status::Ack);
    CHECK(t.address() == 5);
    t.reset();
    CHECK(t.address() == 0);
    CHECK_FALSE(t.configured());
}

TEST_CASE("usb-tablet refuses malformed control transfers with a stall", "[usb]") {
    UsbTablet t;
    std::vector<uint8_t> short_setup(5), long_setup(64), buffer(64);
    CHECK(t.transaction(usb::PID_SETUP, 0, short_setup).status == Status::Stall);
    CHECK(t.transaction(usb::PID_SETUP, 0, long_setup).status == Status::Stall);
    CHECK(t.transaction(usb::PID_IN, 0, buffer).status == Status::Stall);   // no transfer going on
    CHECK(t.transaction(usb::PID_OUT, 0, buffer).status == Status::Stall);
    CHECK(t.transaction(0x2d ^ 0xff, 0, buffer).status == Status::Stall);  // unknown PID
    CHECK(control_out(t, 0x00, usb::REQ_SET_ADDRESS, 300) == Status::Stall);
    CHECK(control_out(t, 0x00, usb::REQ_SET_CONFIGURATION, 7) == Status::Stall);
    CHECK(control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_STRING << 8 | 200, 0, 255).empty());
    CHECK(control_in(t, 0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_CONFIG << 8 | 9, 0, 255).empty());
    CHECK(control_in(t, 0x80, 0x77, 0, 0, 8).empty());
    CHECK(control_in(t, 0xa1, 0x55, 0, 0, 8).empty());  // unknown HID class request
    // Endpoints: nothing before configuration, nothing but endpoint 1.
    CHECK(t.transaction(usb::PID_IN, 1, buffer).status == Status::Stall);
    enumerate(t, 3);
    CHECK(t.transaction(usb::PID_IN, 2, buffer).status == Status::Stall);
    CHECK(t.transaction(usb::PID_OUT, 1, buffer).status == Status::Stall);
    // An OUT data stage longer than announced is cut to wLength.
    auto set_report = setup_packet(0x21, 0x09, 0x0200, 0, 2);
    REQUIRE(t.transaction(usb::PID_SETUP, 0, set_report).status == Status::Ack);
    CHECK(t.transaction(usb::PID_OUT, 0, buffer).status == Status::Ack);
    std::vector<uint8_t> none;
    CHECK(t.transaction(usb::PID_IN, 0, none).status == Status::Ack);
}

TEST_CASE("usb-tablet reports positions, buttons and the wheel once per change", "[usb]") {
    UsbTablet t;
    t.reset();  // as attaching to a port does
    enumerate(t, 2);
    uint8_t r[8];
    REQUIRE(t.transaction(usb::PID_IN, 1, r).length == 6);  // the state after enumeration
    CHECK(t.transaction(usb::PID_IN, 1, r).status == Status::Nak);
    t.input_event(InputEvent::abs(InputAxis::X, 0x1234));
    t.input_event(InputEvent::abs(InputAxis::Y, 0x7fff));
    t.input_event(InputEvent::btn(InputButton::Left, true));
    t.input_event(InputEvent::btn(InputButton::WheelUp, true));
    t.input_sync();
    auto got = t.transaction(usb::PID_IN, 1, r);
    REQUIRE(got.length == 6);
    CHECK(std::vector<uint8_t>(r, r + 6) == std::vector<uint8_t>{1, 0x34, 0x12, 0xff, 0x7f, 1});
    CHECK(t.transaction(usb::PID_IN, 1, r).status == Status::Nak);
    move(t, -50, 1 << 30);  // clamped to the axis range
    REQUIRE(t.transaction(usb::PID_IN, 1, r).length == 6);
    CHECK(std::vector<uint8_t>(r, r + 6) == std::vector<uint8_t>{1, 0, 0, 0xff, 0x7f, 0});
    uint8_t tiny[2];  // a buffer shorter than the report gets its start
    move(t, 1, 1);
    CHECK(t.transaction(usb::PID_IN, 1, tiny).length == 2);
}

namespace {

// One interrupt poll: the report, or empty on NAK.
std::vector<uint8_t> poll(UsbTablet& t) {
    uint8_t r[8];
    auto got = t.transaction(usb::PID_IN, 1, r);
    if (got.status != Status::Ack) return {};
    return std::vector<uint8_t>(r, r + got.length);
}

void button(UsbTablet& t, InputButton b, bool down) {
    t.input_event(InputEvent::btn(b, down));
    t.input_sync();
}

UsbTablet& polled_tablet(UsbTablet& t) {
    t.reset();
    enumerate(t, 2);
    REQUIRE(poll(t).size() == 6);  // the state after enumeration
    return t;
}

} // namespace

TEST_CASE("usb-tablet: each input batch is a report of its own until the guest polls", "[usb]") {
    UsbTablet t;
    polled_tablet(t);
    // A click between two polls: press and release both reach the guest.
    button(t, InputButton::Left, true);
    button(t, InputButton::Left, false);
    CHECK(poll(t) == std::vector<uint8_t>{1, 0, 0, 0, 0, 0});
    CHECK(poll(t) == std::vector<uint8_t>{0, 0, 0, 0, 0, 0});
    CHECK(poll(t).empty());
    // A move, then a press there: two reports, the move first (one report
    // would make Linux emit the press before the axes).
    move(t, 100, 200);
    button(t, InputButton::Right, true);
    CHECK(poll(t) == std::vector<uint8_t>{0, 100, 0, 200, 0, 0});
    CHECK(poll(t) == std::vector<uint8_t>{2, 100, 0, 200, 0, 0});
    CHECK(poll(t).empty());
}

TEST_CASE("usb-tablet: batches that change no button fold into the unread report", "[usb]") {
    UsbTablet t;
    polled_tablet(t);
    move(t, 10, 20);
    move(t, 30, 40);
    button(t, InputButton::WheelUp, true);  // wheel detents are motion, not buttons
    button(t, InputButton::WheelUp, true);
    move(t, 50, 60);
    CHECK(poll(t) == std::vector<uint8_t>{0, 50, 0, 60, 0, 2});
    CHECK(poll(t).empty());
    // Past a button change, motion folds into the report after it.
    button(t, InputButton::Middle, true);
    move(t, 70, 80);
    button(t, InputButton::WheelDown, true);
    CHECK(poll(t) == std::vector<uint8_t>{4, 70, 0, 80, 0, 0xff});
    CHECK(poll(t).empty());
    // Once read, a report is never changed: the next batch is a new one.
    move(t, 90, 100);
    CHECK(poll(t) == std::vector<uint8_t>{4, 90, 0, 100, 0, 0});
}

TEST_CASE("usb-tablet: a guest that does not poll gets at most 15 reports, then the latest state", "[usb]") {
    UsbTablet t;
    polled_tablet(t);
    for (int i = 0; i < 1000; ++i) button(t, InputButton::Left, i % 2 == 0);  // ends released
    move(t, 7, 8);
    for (int i = 0; i < 300; ++i) button(t, InputButton::WheelUp, true);
    std::vector<std::vector<uint8_t>> got;
    for (auto r = poll(t); !r.empty(); r = poll(t)) got.push_back(r);
    REQUIRE(got.size() == TabletReports::kDepth - 1);
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i][0] == (i % 2 == 0 ? 1 : 0));
    // What came while the queue was full is one report after the next
    // batch: the latest buttons and position, the wheel 127 at a time.
    button(t, InputButton::WheelDown, true);
    CHECK(poll(t) == std::vector<uint8_t>{0, 7, 0, 8, 0, 127});
    CHECK(poll(t) == std::vector<uint8_t>{0, 7, 0, 8, 0, 127});
    CHECK(poll(t) == std::vector<uint8_t>{0, 7, 0, 8, 0, 45});
    CHECK(poll(t).empty());
}

TEST_CASE("usb-tablet: a bus reset drops the unread reports and keeps the state", "[usb]") {
    UsbTablet t;
    polled_tablet(t);
    move(t, 0x100, 0x200);
    button(t, InputButton::Left, true);
    button(t, InputButton::Left, false);
    t.reset();
    enumerate(t, 4);
    CHECK(poll(t) == std::vector<uint8_t>{0, 0, 1, 0, 2, 0});
    CHECK(poll(t).empty());
}

namespace {

// A UHCI controller over 1 MiB of guest memory, the tablet on port 1.
struct UhciRig {
    static constexpr uint32_t kFrameList = 0x10000, kQh = 0x20000, kTd = 0x21000, kData = 0x30000;
    GuestMemory memory = GuestMemory::create_flat(1 << 20);
    EventLoop loop;
    std::vector<bool> irq_levels;
    Uhci hc{memory, [this](bool level) { irq_levels.push_back(level); }, loop, 128};
    UsbTablet tablet;

    UhciRig() {
        hc.attach(0, tablet);
        write16(0x10, Uhci::PORT_EN);
        write32(0x08, kFrameList);
        for (uint32_t i = 0; i < 1024; ++i) memory.write_obj(kFrameList + 4 * i, kQh | 2u);
        memory.write_obj(kQh, uint32_t(1));      // no next queue head
        memory.write_obj(kQh + 4, uint32_t(1));  // empty
        write16(0x04, Uhci::INTR_IOC);
    }
    void write16(uint64_t offset, uint16_t v) {
        uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
        hc.write(offset, b);
    }
    void write32(uint64_t offset, uint32_t v) {
        uint8_t b[4];
        std::memcpy(b, &v, 4);
        hc.write(offset, b);
    }
    uint16_t read16(uint64_t offset) {
        uint8_t b[2];
        hc.read(offset, b);
        return uint16_t(b[0] | b[1] << 8);
    }
    void start() { write16(0x00, Uhci::CMD_RS); }
    // TD n at kTd + 32n: link, control (active, 3 errors), token, buffer.
    void td(unsigned n, uint32_t link, uint8_t pid, uint8_t address, size_t length, uint32_t buffer,
            uint32_t extra = 0) {
        uint32_t token = pid | uint32_t(address) << 8 | uint32_t((length - 1) & 0x7ff) << 21;
        uint32_t words[4] = {link, (1u << 23) | (3u << 27) | extra, token, buffer};
        memory.write(kTd + 32 * n, {reinterpret_cast<uint8_t*>(words), sizeof words});
    }
    uint32_t td_ctrl(unsigned n) {
        uint32_t v = 0;
        memory.read_obj(kTd + 32 * n + 4, v);
        return v;
    }
    void queue(uint32_t element) { memory.write_obj(kQh + 4, element); }
};

constexpr uint32_t kActive = 1u << 23, kStalled = 1u << 22, kIoc = 1u << 24, kDepth = 4;

} // namespace

TEST_CASE("UHCI runs a control transfer from guest memory", "[usb][uhci]") {
    UhciRig rig;
    auto setup = setup_packet(0x80, usb::REQ_GET_DESCRIPTOR, usb::DESC_DEVICE << 8, 0, 18);
    rig.memory.write(UhciRig::kData, setup);
    uint32_t td = UhciRig::kTd;
    rig.td(0, (td + 32) | kDepth, usb::PID_SETUP, 0, 8, UhciRig::kData);
    rig.td(1, (td + 64) | kDepth, usb::PID_IN, 0, 8, UhciRig::kData + 0x100);
    rig.td(2, (td + 96) | kDepth, usb::PID_IN, 0, 8, UhciRig::kData + 0x108);
    rig.td(3, (td + 128) | kDepth, usb::PID_IN, 0, 8, UhciRig::kData + 0x110);
    rig.td(4, 1, usb::PID_OUT, 0, 0, 0, kIoc);
    rig.queue(td);
    rig.start();
    rig.hc.run_frames(2);
    for (unsigned i = 0; i < 5; ++i) CHECK((rig.td_ctrl(i) & kActive) == 0);
    CHECK((rig.td_ctrl(3) & 0x7ff) == 1);  // the last IN moved 2 bytes
    uint8_t descriptor[18];
    rig.memory.read(UhciRig::kData + 0x100, descriptor);
    CHECK(descriptor[0] == 18);
    CHECK(descriptor[8] == 0x27);
    CHECK(rig.hc.state().status & Uhci::STS_USBINT);
    REQUIRE_FALSE(rig.irq_levels.empty());
    CHECK(rig.irq_levels.back());
    rig.write16(0x02, Uhci::STS_USBINT);
    CHECK_FALSE(rig.irq_levels.back());
    CHECK(rig.hc.state().frnum == 2);
}

TEST_CASE("UHCI: a frame list outside RAM halts with a host system error", "[usb][uhci]") {
    UhciRig rig;
    rig.write32(0x08, 0xfffff000);
    rig.start();
    rig.hc.run_frames(5);
    auto s = rig.hc.state();
    CHECK(s.status & Uhci::STS_HSERR);
    CHECK(s.status & Uhci::STS_HALTED);
    CHECK_FALSE(s.cmd & Uhci::CMD_RS);
    CHECK(rig.irq_levels.back());
}

TEST_CASE("UHCI: descriptors and buffers outside RAM halt the controller", "[usb][uhci]") {
    UhciRig rig;
    SECTION("a queue head link") {
        for (uint32_t i = 0; i < 1024; ++i) rig.memory.write_obj(UhciRig::kFrameList + 4 * i, 0xfff00002u);
    }
    SECTION("a TD link") { rig.memory.write_obj(UhciRig::kQh + 4, 0xfff00000u); }
    SECTION("the buffer a SETUP reads") {
        rig.td(0, 1, usb::PID_SETUP, 0, 8, 0xfffffff0u);
        rig.queue(UhciRig::kTd);
    }
    SECTION("the buffer an IN writes") {
        control_out(rig.tablet, 0, usb::REQ_SET_CONFIGURATION, 1);  // its first report is pending
        rig.td(0, 1, usb::PID_IN, 0, 8, 0xfffffff0u);
        rig.memory.write_obj(UhciRig::kTd + 8, uint32_t(usb::PID_IN) | (1u << 15) | (7u << 21));  // endpoint 1
        rig.queue(UhciRig::kTd);
    }
    rig.start();
    rig.hc.run_frames(1);
    CHECK(rig.hc.state().status & Uhci::STS_HSERR);
    CHECK(rig.hc.state().status & Uhci::STS_HALTED);
}

TEST_CASE("UHCI: an unknown PID is the controller's own error", "[usb][uhci]") {
    UhciRig rig;
    rig.td(0, 1, 0x55, 0, 8, UhciRig::kData);
    rig.queue(UhciRig::kTd);
    rig.start();
    rig.hc.run_frames(3);
    auto s = rig.hc.state();
    CHECK(s.status & Uhci::STS_HCPERR);
    CHECK(s.status & Uhci::STS_HALTED);
}

TEST_CASE("UHCI: looping schedules end each frame", "[usb][uhci]") {
    UhciRig rig;
    control_out(rig.tablet, 0, usb::REQ_SET_CONFIGURATION, 1);
    uint8_t drain[8];
    rig.tablet.transaction(usb::PID_IN, 1, drain);  // nothing pending: IN gets NAK
    SECTION("a TD that links to itself depth-first") {
        rig.td(0, UhciRig::kTd | kDepth, usb::PID_IN, 0, 8, UhciRig::kData);
        rig.memory.write_obj(UhciRig::kTd + 8, uint32_t(usb::PID_IN) | (1u << 15) | (7u << 21));
        for (uint32_t i = 0; i < 1024; ++i) rig.memory.write_obj(UhciRig::kFrameList + 4 * i, UhciRig::kTd);
    }
    SECTION("a queue head that is its own successor") {
        rig.memory.write_obj(UhciRig::kQh, UhciRig::kQh | 2u);
        rig.td(0, 1, usb::PID_IN, 0, 8, UhciRig::kData);
        rig.memory.write_obj(UhciRig::kTd + 8, uint32_t(usb::PID_IN) | (1u << 15) | (7u << 21));
        rig.queue(UhciRig::kTd);
    }
    SECTION("two queue heads linked in a ring, both empty") {
        rig.memory.write_obj(UhciRig::kQh, (UhciRig::kQh + 16) | 2u);
        rig.memory.write_obj(UhciRig::kQh + 16, UhciRig::kQh | 2u);
        rig.memory.write_obj(UhciRig::kQh + 20, uint32_t(1));
    }
    rig.start();
    rig.hc.run_frames(100);
    auto s = rig.hc.state();
    CHECK(s.frnum == 100);
    CHECK_FALSE(s.status & (Uhci::STS_HSERR | Uhci::STS_HCPERR));
}

TEST_CASE("UHCI: a TD for a device nobody has times out; a stall marks the TD", "[usb][uhci]") {
    UhciRig rig;
    rig.td(0, 1, usb::PID_IN, 9, 8, UhciRig::kData, kIoc);
    rig.queue(UhciRig::kTd);
    rig.start();
    rig.hc.run_frames(1);
    CHECK((rig.td_ctrl(0) & kActive) == 0);
    CHECK(rig.td_ctrl(0) & (1u << 18));
    CHECK(rig.hc.state().status & Uhci::STS_USBERR);
    rig.td(1, 1, usb::PID_IN, 0, 8, UhciRig::kData);  // endpoint 0 IN with no transfer going on
    rig.queue(UhciRig::kTd + 32);
    rig.hc.run_frames(1);
    CHECK(rig.td_ctrl(1) & kStalled);
}

TEST_CASE("UHCI: absurd register writes never break it, and reset restores it", "[usb][uhci]") {
    UhciRig rig;
    std::mt19937 random(14);
    for (int i = 0; i < 20000; ++i) {
        uint64_t offset = random() % 0x20;
        unsigned size = 1u << (random() % 3);
        if (offset + size > 0x20) continue;
        uint8_t data[4];
        uint32_t v = uint32_t(random());
        std::memcpy(data, &v, 4);
        if (i % 2)
            rig.hc.write(offset, {data, size});
        else
            rig.hc.read(offset, {data, size});
        if (i % 64 == 0) rig.hc.run_frames(2);
    }
    rig.hc.reset();
    auto s = rig.hc.state();
    CHECK(s.status == Uhci::STS_HALTED);
    CHECK(s.cmd == 0);
    CHECK(rig.read16(0x10) == (Uhci::PORT_ALWAYS | Uhci::PORT_CCS | Uhci::PORT_CSC));
    CHECK(rig.read16(0x12) == Uhci::PORT_ALWAYS);
    CHECK(rig.read16(0x1e) == 0xffff);
}

TEST_CASE("UHCI ports: enable needs a device; connect changes clear when written", "[usb][uhci]") {
    UhciRig rig;
    rig.write16(0x12, Uhci::PORT_EN);
    CHECK((rig.read16(0x12) & Uhci::PORT_EN) == 0);
    CHECK(rig.read16(0x10) & Uhci::PORT_CSC);
    rig.write16(0x10, Uhci::PORT_CSC | Uhci::PORT_EN);
    CHECK((rig.read16(0x10) & Uhci::PORT_CSC) == 0);
    rig.hc.detach(0);
    CHECK((rig.read16(0x10) & (Uhci::PORT_CCS | Uhci::PORT_EN)) == 0);
    CHECK(rig.read16(0x10) & (Uhci::PORT_CSC | Uhci::PORT_ENC));
}

TEST_CASE("USB buses: free ports, port= and QEMU's errors", "[usb]") {
    UsbBuses buses;
    UsbTablet a, b, c;
    CHECK_THROWS_WITH(buses.attach(a, "", ""), "No 'usb-bus' bus found");
    test::FakeUsbController hc;
    CHECK(buses.add(hc) == "usb-bus.0");
    CHECK(buses.attach(a, "", "2", "t1") == "2");
    CHECK_THROWS_WITH(buses.attach(b, "", "2"), "usb port 2 (bus usb-bus.0) not found (in use?)");
    CHECK_THROWS_WITH(buses.attach(b, "", "x"), "usb port x (bus usb-bus.0) not found (in use?)");
    CHECK_THROWS_WITH(buses.attach(b, "", "3"), "usb port 3 (bus usb-bus.0) not found (in use?)");
    CHECK_THROWS_WITH(buses.attach(b, "usb-bus.1", ""), "Bus 'usb-bus.1' not found");
    CHECK(buses.attach(b, "usb-bus.0", "") == "1");
    CHECK_THROWS_WITH(buses.attach(c, "", ""),
                      "tried to attach usb device QEMU USB Tablet to a bus with no free ports");
    auto list = buses.attached();
    REQUIRE(list.size() == 2);
    CHECK(list[0].port == "2");
    CHECK(list[0].id == "t1");
    CHECK(list[1].port == "1");
    CHECK(list[1].id.empty());
    buses.detach(a);
    CHECK(buses.attached().size() == 1);
    CHECK(hc.ports[1] == nullptr);
}

// QEMU 7.2 with -device piix3-usb-uhci,id=u1 -device piix3-usb-uhci
// -device piix3-usb-uhci: buses u1.0, usb-bus.0, usb-bus.1; a device
// without bus= goes to the newest; info usb goes bus by bus.
TEST_CASE("USB buses: QEMU's names, the newest bus by default, bus= and info usb's order", "[usb]") {
    UsbBuses buses;
    test::FakeUsbController named, first, second;
    CHECK(buses.add(named, "u1") == "u1.0");
    CHECK(buses.add(first) == "usb-bus.0");
    CHECK(buses.add(second) == "usb-bus.1");
    UsbTablet a, b, c;
    buses.attach(a, "", "");
    CHECK(buses.controller_of(a) == &second);
    buses.attach(b, "u1.0", "", "b");
    CHECK(buses.controller_of(b) == &named);
    CHECK_THROWS_WITH(buses.attach(c, "u1.0", "1"), "usb port 1 (bus u1.0) not found (in use?)");
    auto list = buses.attached();
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == "b");  // bus 0 (u1.0) before bus 2, though attached later
    CHECK(list[0].bus == 0);
    CHECK(list[1].bus == 2);
    CHECK(buses.bus_number_of(a) == 2);

    // An unplugged controller's name and number are not given again.
    buses.detach(a);
    buses.remove(second);
    test::FakeUsbController third;
    CHECK(buses.add(third) == "usb-bus.2");
    buses.attach(c, "", "");
    CHECK(buses.controller_of(c) == &third);
    CHECK(buses.attached().back().bus == 3);
}
