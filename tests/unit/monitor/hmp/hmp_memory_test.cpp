// x / xp / memsave / pmemsave. The expected texts are what qemu-system-x86_64
// 7.2 printed for the same bytes (loaded with -device loader at 0x1000).
#include "hmp_fakes.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::hmp_test;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

TEST_CASE("xp prints hex units as qemu does", "[hmp]") {
    Monitor m;
    CHECK(m.run("xp /4xb 0x1000") == lines({"0000000000001000: 0x5c 0x81 0xa6 0xcb"}));
    CHECK(m.run("xp /20xb 0x1000") == lines({"0000000000001000: 0x5c 0x81 0xa6 0xcb 0xf0 0x15 0x3a 0x5f",
                                             "0000000000001008: 0x84 0xa9 0xce 0xf3 0x18 0x3d 0x62 0x87",
                                             "0000000000001010: 0xac 0xd1 0xf6 0x1b"}));
    CHECK(m.run("xp /5xh 0x1000") == lines({"0000000000001000: 0x815c 0xcba6 0x15f0 0x5f3a 0xa984"}));
    CHECK(m.run("xp /5xw 0x1000") == lines({"0000000000001000: 0xcba6815c 0x5f3a15f0 0xf3cea984 0x87623d18",
                                            "0000000000001010: 0x1bf6d1ac"}));
    CHECK(m.run("xp /3xg 0x1000") == lines({"0000000000001000: 0x5f3a15f0cba6815c 0x87623d18f3cea984",
                                            "0000000000001010: 0xaf8a65401bf6d1ac"}));
}

TEST_CASE("xp prints decimal, unsigned and octal columns as qemu does", "[hmp]") {
    Monitor m;
    CHECK(m.run("xp /6dh 0x1000") == lines({"0000000000001000: 33116 52134  5616 24378 43396 62414"}));
    CHECK(m.run("xp /5db 0x1000") == lines({"0000000000001000:  92 129 166 203 240"}));
    CHECK(m.run("xp /5dw 0x1000") == lines({"0000000000001000: 3416686940 1597642224 4090407300 2271362328",
                                            "0000000000001010:  469160364"}));
    CHECK(m.run("xp /3dg 0x1000") == lines({"0000000000001000:  6861821106205393244 -8691317153492719228",
                                            "0000000000001010: -5797710244264619604"}));
    CHECK(m.run("xp /6ub 0x1000") == lines({"0000000000001000:  92 129 166 203 240  21"}));
    CHECK(m.run("xp /3ug 0x1000") == lines({"0000000000001000:  6861821106205393244  9755426920216832388",
                                            "0000000000001010: 12649033829444932012"}));
    CHECK(m.run("xp /5oh 0x1000") == lines({"0000000000001000: 0100534 0145646 012760 057472 0124604"}));
    CHECK(m.run("xp /3ob 0x1000") == lines({"0000000000001000: 0134 0201 0246"}));
    CHECK(m.run("xp /3og 0x1000") == lines({"0000000000001000: 0574720537031351500534 01035421721436363524604",
                                            "0000000000001010: 01276123124003375550654"}));
}

TEST_CASE("xp /c prints characters, count times the remembered size", "[hmp]") {
    Monitor m;
    CHECK(m.run("xp /20cb 0x1000") ==
          lines({"0000000000001000: '\\\\' '\\x81' '\\xa6' '\\xcb' '\\xf0' '\\x15' ':' '_'",
                 "0000000000001008: '\\x84' '\\xa9' '\\xce' '\\xf3' '\\x18' '=' 'b' '\\x87'",
                 "0000000000001010: '\\xac' '\\xd1' '\\xf6' '\\x1b'"}));
    CHECK(m.run("xp /3cw 0x1000") == lines({"0000000000001000: '\\\\' '\\x81' '\\xa6' '\\xcb' '\\xf0' '\\x15' ':' "
                                            "'_' '\\x84' '\\xa9' '\\xce' '\\xf3'"}));
    // No format: the last one ('c', size w) again, count 1.
    CHECK(m.run("xp 0x1002") == lines({"0000000000001002: '\\xa6' '\\xcb' '\\xf0' '\\x15'"}));
    CHECK(m.run("xp /2 0x1000") == lines({"0000000000001000: '\\\\' '\\x81' '\\xa6' '\\xcb' '\\xf0' '\\x15' ':' '_'"}));
}

TEST_CASE("x reads through the current vCPU's virtual addresses", "[hmp]") {
    Monitor m;
    CHECK(m.run("x /2bx 0x10001000") == lines({"0000000010001000: 0x5c 0x81"}));
    CHECK(m.run("x/2xb 0x10000ff0+0x10") == lines({"0000000010001000: 0x5c 0x81"}));
    CHECK(m.run("x /2x 0x1000") == lines({"0000000000001000: Cannot access memory"}));
    // $pc is CS base + RIP from the register text.
    CHECK(m.run("x /1bx $pc") == lines({"0000000010001000: 0x5c"}));
    CHECK(m.run("x /1bx $rbx+0x10000000") == lines({"0000000010001000: 0x5c"}));
}

TEST_CASE("x/xp errors and defaults are qemu's", "[hmp]") {
    Monitor m;
    CHECK(m.run("xp /2x 0xfffffffffffffff8") == lines({"fffffffffffffff8: Cannot access memory"}));
    CHECK(m.run("x") == lines({"unexpected end of expression", "Try \"help x\" for more information"}));
    CHECK(m.run("x /2s 0") == lines({"invalid char in format: 's'", "Try \"help x\" for more information"}));
    CHECK(m.run("x /-1x 0") == lines({"invalid char in format: '-'", "Try \"help x\" for more information"}));
    CHECK(m.run("x /4x 0 5") ==
          lines({"x: extraneous characters at the end of line", "Try \"help x\" for more information"}));
    CHECK(m.run("xp 99999999999999999999999") ==
          lines({"number too large", "Try \"help xp\" for more information"}));
    CHECK(m.run("xp %") == lines({"invalid char '%' in expression", "Try \"help xp\" for more information"}));
    CHECK(m.run("xp $nosuch") == lines({"unknown register", "Try \"help xp\" for more information"}));
    CHECK(m.run("xp /0x 0").empty());
    CHECK(m.run("xp /i 0x1000") == lines({"0x00001000: Asm output not supported on this arch"}));
    // 'i' leaves the remembered size alone.
    CHECK(m.run("xp /2x 0x1000") == lines({"0000000000001000: 0xcba6815c 0x5f3a15f0"}));
    CHECK(m.run("xp (8*2)-1+0x1000") == lines({"000000000000100f: 0xf6d1ac87"}));
    CHECK(m.run("xp /1xb 010") == lines({"0000000000000008: 0x00"}));
    CHECK(m.run("xp /1xb 'a'") == lines({"0000000000000061: 0x00"}));
}

TEST_CASE("memsave and pmemsave write the bytes to a file", "[hmp]") {
    Monitor m;
    char tmpl[] = "/tmp/kestrel-hmp-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string expected(reinterpret_cast<const char*>(&m.vm.ram[0x1000]), 3000);

    CHECK(m.run("pmemsave 0x1000 3000 \"" + dir + "/p.bin\"").empty());
    CHECK(slurp(dir + "/p.bin") == expected);
    CHECK(m.run("memsave 0x10001000 3000 \"" + dir + "/m.bin\"").empty());
    CHECK(slurp(dir + "/m.bin") == expected);

    CHECK(m.run("memsave 0x100000000000 16 \"" + dir + "/bad.bin\"") ==
          lines({"Error: Invalid addr 0x0000100000000000/size 16 specified"}));
    CHECK(m.run("pmemsave 0 16 \"/nonexistent/x\"") ==
          lines({"Error: Could not open '/nonexistent/x': No such file or directory"}));
    // An unquoted path is an expression to qemu: "16 /tmp" divides.
    CHECK(m.run("memsave 0 16 /tmp/x") ==
          lines({"invalid char 't' in expression", "Try \"help memsave\" for more information"}));
    CHECK(m.run("pmemsave 0 16") ==
          lines({"pmemsave: string expected", "Try \"help pmemsave\" for more information"}));
    std::system(("rm -rf " + dir).c_str());
}
