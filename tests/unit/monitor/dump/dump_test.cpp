// dump-guest-memory's ELF core layout and the dump's life cycle (status,
// DUMP_COMPLETED, the VM stopped and resumed), against a fake machine.
// The layout is QEMU 7.2's as tests/cli/dump_test.py checks it beside QEMU.
#include "../stub_vm.h"
#include "two_block_ram.h"

#include "monitor/dump/elf_core.h"
#include "monitor/dump/guest_dumper.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>

using namespace kestrel;

namespace {

constexpr uint64_t kHigh = 1ull << 32;

class DumpVm : public test::StubVm {
public:
    DumpVm() : ram{std::vector<uint8_t>(1 << 20), std::vector<uint8_t>(1 << 16)} {
        for (size_t i = 0; i < low.size(); i++) low[i] = static_cast<uint8_t>(i * 7);
        for (size_t i = 0; i < high.size(); i++) high[i] = static_cast<uint8_t>(i * 13 + 1);
        CpuDumpState c;
        c.gpr[RSI] = 0x1111;
        c.gpr[RDI] = 0x2222;
        c.rip = 0x100000;
        c.cs = {0x10, 0xffffffff, 0xc09b00, 0};
        cpus = {c, c};
        cpus[1].gpr[RSI] = 0x3333;
    }
    VmStatus status() const override { return {running ? "running" : "save-vm", running}; }
    void stop_for_dump() override { running = false, ++stops; }
    void resume_after_dump() override { running = true, ++resumes; }
    std::vector<RamBlock> ram_blocks() const override { return {{0, low.size()}, {kHigh, high.size()}}; }
    std::vector<CpuDumpState> cpu_dump_states() override { return cpus; }
    bool read_physical(uint64_t a, std::span<uint8_t> out) const override {
        return ram.read(a, out);
    }
    test::TwoBlockRam ram;
    std::vector<uint8_t>& low = ram.low;
    std::vector<uint8_t>& high = ram.high;
    std::vector<CpuDumpState> cpus;
    bool running = true;
    int stops = 0, resumes = 0;
};

struct Events : EventSink {
    void emit_event(std::string_view name, const nlohmann::json& data) override {
        names.emplace_back(name);
        last = data;
    }
    std::vector<std::string> names;
    nlohmann::json last;
};

struct Posted {
    std::vector<std::function<void()>> work;
    std::mutex lock;
    std::condition_variable posted;
    void post(std::function<void()> fn) {
        std::lock_guard g(lock);
        work.push_back(std::move(fn));
        posted.notify_all();
    }
    // The dump thread posts its end after its last write: a reader that has
    // every byte may still be ahead of it.
    void wait_then_run_all() {
        std::unique_lock g(lock);
        posted.wait(g, [&] { return !work.empty(); });
        for (auto& w : work) w();
        work.clear();
    }
};

template <typename T> T at(const std::vector<uint8_t>& b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::vector<uint8_t> out;
    int fd = ::open(path.c_str(), O_RDONLY);
    uint8_t buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
    ::close(fd);
    return out;
}

std::string temp_path() {
    char name[] = "/tmp/kestrel-dump-XXXXXX";
    int fd = mkstemp(name);
    ::close(fd);
    return name;
}

} // namespace

TEST_CASE("ELF core: header, section headers, notes and PT_LOADs as QEMU 7.2 lays them out", "[dump]") {
    DumpVm vm;
    ElfCorePlan plan = plan_elf_core(vm.cpus, dump_blocks(vm.ram_blocks(), std::nullopt));
    const auto& h = plan.head;
    auto eh = at<Elf64_Ehdr>(h, 0);
    CHECK(eh.e_ident[EI_CLASS] == ELFCLASS64);
    CHECK(eh.e_type == ET_CORE);
    CHECK(eh.e_machine == EM_386);   // not in long mode
    CHECK(eh.e_shoff == 64);
    CHECK(eh.e_phoff == 192);
    CHECK(eh.e_phnum == 3);
    CHECK(eh.e_shnum == 2);
    CHECK(eh.e_shstrndx == 1);
    auto note = at<Elf64_Phdr>(h, 192);
    CHECK(note.p_type == PT_NOTE);
    CHECK(note.p_offset == 192 + 3 * 56);
    CHECK(note.p_filesz == 2 * (164 + 460));
    CHECK(h.size() == note.p_offset + note.p_filesz);
    auto low = at<Elf64_Phdr>(h, 248), high = at<Elf64_Phdr>(h, 304);
    CHECK(low.p_offset == h.size());
    CHECK(low.p_paddr == 0);
    CHECK(low.p_filesz == 1 << 20);
    CHECK(high.p_offset == h.size() + (1 << 20));
    CHECK(high.p_paddr == kHigh);
    CHECK(high.p_vaddr == kHigh);
    CHECK(plan.memory_bytes == (1 << 20) + (1 << 16));
    auto strtab = at<Elf64_Shdr>(h, 128);
    CHECK(strtab.sh_type == SHT_STRTAB);
    CHECK(strtab.sh_offset == h.size() + plan.memory_bytes);
    CHECK(std::string(plan.tail.begin(), plan.tail.end()) == std::string("\0.shstrtab\0", 11));
    // CORE notes first (i386 prstatus: pid at 24, esi at 84), then the QEMU notes.
    size_t n0 = note.p_offset;
    CHECK(at<uint32_t>(h, n0 + 4) == 144);
    CHECK(at<uint32_t>(h, n0 + 8) == NT_PRSTATUS);
    CHECK(std::memcmp(h.data() + n0 + 12, "CORE", 5) == 0);
    CHECK(at<uint32_t>(h, n0 + 20 + 24) == 1);
    CHECK(at<uint32_t>(h, n0 + 20 + 84) == 0x1111);
    CHECK(at<uint32_t>(h, n0 + 164 + 20 + 24) == 2);
    CHECK(at<uint32_t>(h, n0 + 164 + 20 + 84) == 0x3333);
    size_t q0 = n0 + 2 * 164;
    CHECK(std::memcmp(h.data() + q0 + 12, "QEMU", 5) == 0);
    CHECK(at<uint32_t>(h, q0 + 4) == 440);
    CHECK(at<uint32_t>(h, q0 + 20) == 1);          // version
    CHECK(at<uint64_t>(h, q0 + 20 + 8 + 4 * 8) == 0x1111);   // rsi after rax rbx rcx rdx
    CHECK(at<uint32_t>(h, q0 + 20 + 152 + 8) == 0xc09b00);  // cs flags
}

TEST_CASE("ELF core: long mode gives EM_X86_64 and Linux's x86_64 prstatus", "[dump]") {
    DumpVm vm;
    vm.cpus.resize(1);
    vm.cpus[0].long_mode = true;
    vm.cpus[0].gpr[R15] = 0xf15;
    vm.cpus[0].fs.base = 0xf5ba5e;
    ElfCorePlan plan = plan_elf_core(vm.cpus, dump_blocks(vm.ram_blocks(), std::nullopt));
    CHECK(at<Elf64_Ehdr>(plan.head, 0).e_machine == EM_X86_64);
    size_t d = at<Elf64_Phdr>(plan.head, 192).p_offset + 20;
    CHECK(at<uint32_t>(plan.head, d - 16) == 336);
    CHECK(at<uint32_t>(plan.head, d + 32) == 1);              // pr_pid
    CHECK(at<uint64_t>(plan.head, d + 112) == 0xf15);         // r15 first
    CHECK(at<uint64_t>(plan.head, d + 112 + 13 * 8) == 0x1111);   // rsi
    CHECK(at<uint64_t>(plan.head, d + 112 + 16 * 8) == 0x100000); // rip
    CHECK(at<uint64_t>(plan.head, d + 112 + 21 * 8) == 0xf5ba5e); // fs_base
}

TEST_CASE("dump ranges: begin/length clip and drop blocks as QEMU's filter", "[dump]") {
    std::vector<RamBlock> ram{{0, 0xc0000000}, {kHigh, 0x80000000}};
    auto b = dump_blocks(ram, DumpRange{0xbff00000, 0x40200000});
    REQUIRE(b.size() == 2);
    CHECK(b[0].gpa == 0xbff00000);
    CHECK(b[0].size == 0x100000);
    CHECK(b[1].gpa == kHigh);
    CHECK(b[1].size == 0x100000);
    CHECK(dump_blocks(ram, DumpRange{0xc0000000, 0x1000}).empty());   // in the hole
    CHECK(dump_blocks(ram, DumpRange{0x1000, 0}).empty());
    CHECK(dump_blocks(ram, DumpRange{uint64_t(-4096), 8192}).empty());   // wraps: nothing
}

TEST_CASE("dump: a synchronous dump writes the file, stops and resumes the VM, sends DUMP_COMPLETED", "[dump]") {
    DumpVm vm;
    Events events;
    GuestDumper dumper(vm, events, [](std::function<void()>) { FAIL("nothing is posted"); });
    std::string path = temp_path();
    DumpRequest r;
    dumper.check(r);
    dumper.start(r, open_dump_target("file:" + path, nullptr));
    CHECK(vm.stops == 1);
    CHECK(vm.resumes == 1);
    REQUIRE(events.names == std::vector<std::string>{"DUMP_COMPLETED"});
    CHECK(events.last["result"]["status"] == "completed");
    CHECK(events.last["result"]["total"] == (1 << 20) + (1 << 16));
    CHECK(!events.last.contains("error"));
    std::vector<uint8_t> file = read_file(path);
    ElfCorePlan plan = plan_elf_core(vm.cpus, dump_blocks(vm.ram_blocks(), std::nullopt));
    REQUIRE(file.size() == plan.head.size() + plan.memory_bytes + plan.tail.size());
    CHECK(std::memcmp(file.data() + plan.head.size(), vm.low.data(), vm.low.size()) == 0);
    CHECK(std::memcmp(file.data() + plan.head.size() + vm.low.size(), vm.high.data(), vm.high.size()) == 0);
    CHECK(dumper.progress().status == "completed");
    ::unlink(path.c_str());
}

TEST_CASE("dump: detached, with progress; a second dump is refused meanwhile", "[dump]") {
    DumpVm vm;
    Events events;
    Posted posted;
    GuestDumper dumper(vm, events, [&](std::function<void()> fn) { posted.post(std::move(fn)); });
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    DumpRequest r;
    r.detach = true;
    dumper.start(r, UniqueFd(pipe_fds[1]));
    CHECK(dumper.progress().status == "active");
    CHECK(vm.status().status == "save-vm");
    CHECK_THROWS_WITH(dumper.check(r), "There is a dump in process, please wait.");
    ElfCorePlan plan = plan_elf_core(vm.cpus, dump_blocks(vm.ram_blocks(), std::nullopt));
    size_t want = plan.head.size() + plan.memory_bytes + plan.tail.size();
    std::vector<uint8_t> got;
    uint8_t buf[65536];
    // The write end stays open until the loop thread finishes the dump.
    for (ssize_t n; got.size() < want && (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;)
        got.insert(got.end(), buf, buf + n);
    ::close(pipe_fds[0]);
    CHECK(events.names.empty());   // finished on the loop thread only
    posted.wait_then_run_all();
    CHECK(events.names == std::vector<std::string>{"DUMP_COMPLETED"});
    CHECK(vm.resumes == 1);
    CHECK(dumper.progress().status == "completed");
    CHECK(got.size() == want);
}

TEST_CASE("dump: failures as QEMU reports them", "[dump]") {
    DumpVm vm;
    Events events;
    GuestDumper dumper(vm, events, [](std::function<void()>) {});
    DumpRequest r;
    r.begin = 0;
    CHECK_THROWS_WITH(dumper.check(r), "Parameter 'length' is missing");
    r.begin.reset();
    r.length = 1;
    CHECK_THROWS_WITH(dumper.check(r), "Parameter 'begin' is missing");
    r.format = "kdump-zlib";
    CHECK_THROWS_WITH(dumper.check(r), "kdump-compressed format doesn't support paging or filter");
    r.length.reset();
    r.format = "win-dmp";
    CHECK_THROWS_WITH(dumper.check(r), "win-dmp is not available now");
    CHECK_THROWS_WITH(open_dump_target("tcp:x", nullptr), "Invalid parameter 'protocol'");
    CHECK_THROWS_WITH(open_dump_target("file:/nonexistent/x", nullptr),
                      "Could not open '/nonexistent/x': No such file or directory");

    DumpRequest outside;
    outside.begin = 0x200000000;
    outside.length = 4096;
    CHECK_THROWS_WITH(dumper.start(outside, UniqueFd(::open("/dev/null", O_WRONLY))), "dump: no guest memory to dump");
    CHECK(dumper.progress().status == "failed");
    CHECK(vm.running);
    CHECK(events.names.empty());

    DumpRequest paging;
    paging.paging = true;
    vm.cpus[0].cr[0] = 0x80000011;
    CHECK_THROWS_WITH(dumper.start(paging, UniqueFd(::open("/dev/null", O_WRONLY))),
                      "this feature or command is not currently supported");

    CHECK_THROWS_WITH(dumper.start(DumpRequest{}, UniqueFd(::open("/dev/full", O_WRONLY))),
                      "dump: failed to write elf header: No space left on device");
    CHECK(events.last["result"]["status"] == "failed");
    CHECK(events.last["error"] == "dump: failed to write elf header: No space left on device");
    CHECK(vm.running);
    CHECK(vm.stops == vm.resumes);
}
