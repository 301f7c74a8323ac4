// The line editor; expected echo bytes are what qemu 7.2 sent for the same keys.
#include "monitor/hmp/hmp_readline.h"

#include <catch2/catch.hpp>

using namespace kestrel;

namespace {

struct Editor {
    HmpHistory history;
    HmpReadline rl{history, "(qemu) ", [](std::string_view before) {
                       HmpCompletion c{before.size(), {}};
                       for (std::string_view name : {"info", "sync-profile", "system_powerdown", "system_reset"})
                           if (name.substr(0, before.size()) == before) c.candidates.emplace_back(name);
                       return c;
                   }};
    std::string echo;
    std::vector<std::string> done;
    void type(std::string_view keys) {
        for (char k : keys)
            if (auto line = rl.feed(static_cast<uint8_t>(k), echo)) done.push_back(*line);
    }
};

} // namespace

TEST_CASE("readline echoes as qemu: insert, arrows, enter", "[hmp]") {
    Editor e;
    e.type("ab\x1b[D\x1b[DX\n");
    CHECK(e.echo == "a\x1b[K\x1b[D" "ab\x1b[K\x1b[D\x1b[D" "Xab\x1b[K\x1b[D\x1b[D\n");
    CHECK(e.done == std::vector<std::string>{"Xab"});
}

TEST_CASE("readline home/end keys and Ctrl-A/Ctrl-E", "[hmp]") {
    Editor e;
    e.type("abc\x01Z\x05Y\r");
    CHECK(e.echo == "a\x1b[K\x1b[D" "ab\x1b[K\x1b[D\x1b[D" "abc\x1b[K\x1b[D\x1b[D\x1b[D" "Zabc\x1b[K\x1b[D\x1b[D\x1b[D"
                    "\x1b[C\x1b[C\x1b[C\x1b[D\x1b[D\x1b[D\x1b[D" "ZabcY\x1b[K\n");
    // ESC[H does nothing; ESC[F is history-up in qemu (recalls "ZabcY").
    e.type("abc\x1b[H\x1b[FZ\x1bOH\x1b[1~Q\x1b[4~R\x1bOF\r");
    CHECK(e.done.back() == "QZabcYZR");
}

TEST_CASE("readline deletes: backspace, DEL, ESC[3~, Ctrl-D, Ctrl-W", "[hmp]") {
    Editor e;
    e.type("abc\x08\x7fQ\n");
    CHECK(e.echo == "a\x1b[K\x1b[D" "ab\x1b[K\x1b[D\x1b[D" "abc\x1b[K\x1b[D\x1b[D\x1b[D" "ab\x1b[K\x1b[D\x1b[D"
                    "a\x1b[K\x1b[D" "aQ\x1b[K\n");
    e.type("abc\x1b[D\x1b[D\x1b[3~\n");
    e.type("abc\x1b[D\x1b[D\x04\n");
    e.type("abc def  \x17\n");
    e.type("\x0b\x15\x02\x06x\n");   // Ctrl-K, U, B, F do nothing in qemu
    CHECK(e.done == std::vector<std::string>{"aQ", "ac", "ac", "abc ", "x"});
}

TEST_CASE("readline history: up/down, duplicates move to the end, 64 kept", "[hmp]") {
    Editor e;
    e.type("info name\ninfo uuid\n\x1b[A\x1b[A\n");
    CHECK(e.done.back() == "info name");
    REQUIRE(e.history.size() == 2);
    CHECK(e.history.at(0) == "info uuid");
    CHECK(e.history.at(1) == "info name");
    e.echo.clear();
    e.type("\x1b[A\x1b[A\x1b[B");
    CHECK(e.echo == "info name\x1b[K\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D"
                    "info uuid\x1b[K\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D" "info name\x1b[K");
    e.type("\x1b[E\x1b[F");   // qemu's other down/up keys
    CHECK(e.rl.line() == "info name");
    e.type("\x1b[B\x1b[B");   // past the newest entry: an empty line
    CHECK(e.rl.line().empty());
    e.type("\n\n");
    CHECK(e.history.size() == 2);   // empty lines are not kept
    for (int i = 0; i < 70; ++i) e.type("cmd" + std::to_string(i) + "\n");
    CHECK(e.history.size() == 64);
    CHECK(e.history.at(0) == "cmd6");
}

TEST_CASE("readline completes names: one match, several matches", "[hmp]") {
    Editor e;
    e.type("in\t");
    CHECK(e.rl.line() == "info ");
    e.type("\x01\x17");   // back to an empty line
    e.echo.clear();
    e.rl.restart();
    e.type("sy\t");
    CHECK(e.rl.line() == "sy");
    CHECK(e.echo.find("\nsync-profile      system_powerdown  system_reset      \n(qemu) sy\x1b[K") !=
          std::string::npos);
}

TEST_CASE("readline ignores bytes past 4095", "[hmp]") {
    Editor e;
    e.type(std::string(5000, 'a') + "\n");
    CHECK(e.done.back().size() == 4095);
}
