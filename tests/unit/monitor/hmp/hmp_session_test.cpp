// HmpSession over an in-memory chardev: what a terminal user sees.
#include "hmp_fakes.h"
#include "monitor/hmp/hmp_session.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::hmp_test;

TEST_CASE("session greets, echoes, runs and prompts", "[hmp]") {
    FakeVm vm;
    HmpServices services{vm};
    FakeChardev chr;
    HmpSession session(chr, services);
    CHECK(chr.frontend() == &session);
    session.opened();
    CHECK(chr.take() == "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ");
    chr.type("c\r");
    CHECK(chr.take() == "c\x1b[K\r\n(qemu) ");
    chr.type("info st");
    chr.take();
    chr.type("atus\n");
    CHECK(chr.take().find("\r\nVM status: running\r\n(qemu) ") != std::string::npos);
    chr.type("info history\r");
    CHECK(chr.take().find("\r\n0: 'c'\r\n1: 'info status'\r\n2: 'info history'\r\n(qemu) ") != std::string::npos);
    // CR LF: the LF is an empty line, which prints one more prompt.
    chr.type("\r\n");
    CHECK(chr.take() == "\r\n(qemu) \r\n(qemu) ");
}

TEST_CASE("session on a mux: focus out ends the line, focus in prompts afresh", "[hmp]") {
    FakeVm vm;
    HmpServices services{vm};
    FakeChardev chr;
    HmpSession session(chr, services);
    session.opened();
    chr.type("ab");
    chr.take();
    session.focus_changed(false);
    CHECK(chr.take() == "\r\n");
    session.focus_changed(true);
    CHECK(chr.take() == "(qemu) ");
    chr.type("c\r");
    CHECK(chr.take() == "c\x1b[K\r\n(qemu) ");
    CHECK(vm.calls == std::vector<std::string>{"cont"});
}

TEST_CASE("session stops prompting after quit", "[hmp]") {
    FakeVm vm;
    HmpServices services{vm};
    FakeChardev chr;
    {
        HmpSession session(chr, services);
        session.opened();
        chr.take();
        chr.type("quit\rinfo status\r");
        CHECK(chr.take() == "q\x1b[K\x1b[Dqu\x1b[K\x1b[D\x1b[Dqui\x1b[K\x1b[D\x1b[D\x1b[Dquit\x1b[K\r\n");
        CHECK(session.can_receive() == 0);
    }
    CHECK(chr.frontend() == nullptr);
    CHECK(vm.calls == std::vector<std::string>{"quit"});
}
