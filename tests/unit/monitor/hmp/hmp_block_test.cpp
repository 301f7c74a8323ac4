// "info block" and "info blockstats": texts copied from
// qemu-system-x86_64 7.2 -monitor stdio with the disks of block_fake_vm.h.
#include "block_fake_vm.h"

#include "monitor/hmp/hmp.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::block_test;

namespace {

struct BlockMonitor {
    BlockFakeVm vm;
    HmpServices services{vm};
    HmpState state;
    std::string run(std::string_view line) { return run_hmp_command(services, state, line); }
};

std::string crlf(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

} // namespace

TEST_CASE("info block prints every disk as QEMU", "[drive][hmp]") {
    BlockMonitor m;
    CHECK(m.run("info block").empty());
    m.vm.disks = {qemu_virtio0(), qemu_d2()};
    CHECK(m.run("info block") == crlf("virtio0 (#block167): /tmp/dx.img (raw)\n"
                                      "    Attached to:      /machine/peripheral-anon/device[0]/virtio-backend\n"
                                      "    Cache mode:       writeback\n"
                                      "\n"
                                      "d2 (#block309): /tmp/dy.img (raw, read-only)\n"
                                      "    Attached to:      /machine/peripheral/blk2/virtio-backend\n"
                                      "    Cache mode:       writeback, direct\n"));
    // QEMU's blank line before a disk that is not the first, even alone.
    CHECK(m.run("info block d2") == crlf("\n"
                                         "d2 (#block309): /tmp/dy.img (raw, read-only)\n"
                                         "    Attached to:      /machine/peripheral/blk2/virtio-backend\n"
                                         "    Cache mode:       writeback, direct\n"));
    CHECK(m.run("info block virtio0") == crlf("virtio0 (#block167): /tmp/dx.img (raw)\n"
                                              "    Attached to:      /machine/peripheral-anon/device[0]/virtio-backend\n"
                                              "    Cache mode:       writeback\n"));
    CHECK(m.run("info block nosuch").empty());
}

TEST_CASE("info block -v adds the image, -n lists the nodes newest first", "[drive][hmp]") {
    BlockMonitor m;
    m.vm.disks = {qemu_virtio0("#block197", "#block047"), qemu_d2("#block310", "#block299")};
    m.vm.disks[1].read_only = false;
    m.vm.disks[1].direct = false;
    CHECK(m.run("info block -v virtio0") == crlf("virtio0 (#block197): /tmp/dx.img (raw)\n"
                                                 "    Attached to:      /machine/peripheral-anon/device[0]/virtio-backend\n"
                                                 "    Cache mode:       writeback\n"
                                                 "\n"
                                                 "Images:\n"
                                                 "image: /tmp/dx.img\n"
                                                 "file format: raw\n"
                                                 "virtual size: 64 MiB (67108864 bytes)\n"
                                                 "disk size: 0 B\n"));
    CHECK(m.run("info block -n") == crlf("#block310: /tmp/dy.img (raw)\n"
                                         "    Cache mode:       writeback\n"
                                         "\n"
                                         "#block299: /tmp/dy.img (file)\n"
                                         "    Cache mode:       writeback\n"
                                         "\n"
                                         "#block197: /tmp/dx.img (raw)\n"
                                         "    Cache mode:       writeback\n"
                                         "\n"
                                         "#block047: /tmp/dx.img (file)\n"
                                         "    Cache mode:       writeback\n"));
    std::string nv = m.run("info block -n -v");
    CHECK(nv.find("#block299: /tmp/dy.img (file)\r\n    Cache mode:       writeback\r\n\r\nImages:\r\n"
                  "image: /tmp/dy.img\r\nfile format: file\r\nvirtual size: 32 MiB (33554432 bytes)\r\n"
                  "disk size: 0 B\r\n\r\n#block197") != std::string::npos);
    CHECK(m.run("info block -n virtio0").empty());
    CHECK(m.run("info block #block047") == crlf("\n#block047: /tmp/dx.img (file)\n    Cache mode:       writeback\n"));
}

TEST_CASE("info block: cache modes, an unattached drive, sizes", "[drive][hmp]") {
    BlockMonitor m;
    BlockDeviceInfo b = qemu_virtio0();
    b.writeback = false;
    b.direct = true;
    b.no_flush = true;
    b.virtual_size = 1000 * 1024;   // size_to_str moves up a unit from 1000
    b.actual_size = 1536ull << 20;
    BlockDeviceInfo loose = qemu_d2();
    loose.device = "none1";
    loose.qdev.clear();
    loose.read_only = false;
    loose.direct = false;
    m.vm.disks = {b, loose};
    CHECK(m.run("info block -v") == crlf("virtio0 (#block167): /tmp/dx.img (raw)\n"
                                         "    Attached to:      /machine/peripheral-anon/device[0]/virtio-backend\n"
                                         "    Cache mode:       writethrough, direct, ignore flushes\n"
                                         "\n"
                                         "Images:\n"
                                         "image: /tmp/dx.img\n"
                                         "file format: raw\n"
                                         "virtual size: 0.977 MiB (1024000 bytes)\n"
                                         "disk size: 1.5 GiB\n"
                                         "\n"
                                         "none1 (#block309): /tmp/dy.img (raw)\n"
                                         "    Removable device: not locked, tray closed\n"
                                         "    Cache mode:       writeback\n"
                                         "\n"
                                         "Images:\n"
                                         "image: /tmp/dy.img\n"
                                         "file format: raw\n"
                                         "virtual size: 32 MiB (33554432 bytes)\n"
                                         "disk size: 0 B\n"));
}

TEST_CASE("info block argument errors as QEMU", "[drive][hmp]") {
    BlockMonitor m;
    m.vm.disks = {qemu_virtio0()};
    CHECK(m.run("info block -x") == crlf("block: unsupported option -x\nTry \"help info block\" for more information\n"));
    CHECK(m.run("info block virtio0 extra") ==
          crlf("block: extraneous characters at the end of line\nTry \"help info block\" for more information\n"));
    CHECK(m.run("info blockstats extra") ==
          crlf("blockstats: extraneous characters at the end of line\nTry \"help info blockstats\" for more information\n"));
    // A later flag first: the earlier one is then read as the device name.
    CHECK(m.run("info block -v -n").empty());
    CHECK(m.run("help info block") ==
          crlf("info block [-n] [-v] [device] -- show info of one block device or all block devices "
               "(-n: show named nodes; -v: show details)\n"));
}

TEST_CASE("info blockstats prints the device counters", "[drive][hmp]") {
    BlockMonitor m;
    m.vm.disks = {qemu_virtio0(), qemu_d2()};
    CHECK(m.run("info blockstats") ==
          crlf("virtio0: rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 flush_operations=0 "
               "wr_total_time_ns=0 rd_total_time_ns=0 flush_total_time_ns=0 rd_merged=0 wr_merged=0 idle_time_ns=0\n"
               "d2: rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 flush_operations=0 "
               "wr_total_time_ns=0 rd_total_time_ns=0 flush_total_time_ns=0 rd_merged=0 wr_merged=0 idle_time_ns=0\n"));
    BlockDeviceInfo& b = m.vm.disks[0];
    b.rd_bytes = 4096, b.wr_bytes = 512, b.rd_operations = 2, b.wr_operations = 1, b.flush_operations = 3;
    b.wr_total_time_ns = 11, b.rd_total_time_ns = 22, b.flush_total_time_ns = 33;
    b.rd_merged = 4, b.wr_merged = 5, b.idle_time_ns = 123456;
    CHECK(m.run("info blockstats").starts_with(
        crlf("virtio0: rd_bytes=4096 wr_bytes=512 rd_operations=2 wr_operations=1 flush_operations=3 "
             "wr_total_time_ns=11 rd_total_time_ns=22 flush_total_time_ns=33 rd_merged=4 wr_merged=5 "
             "idle_time_ns=123456\n")));
}

TEST_CASE("commit asks the block service, and prints QEMU's errors", "[drive][hmp]") {
    BlockMonitor m;
    m.vm.disks = {qemu_virtio0(), qemu_d2()};
    CHECK(m.run("commit virtio0").empty());  // QEMU prints nothing on success
    CHECK(m.run("commit all").empty());
    CHECK(m.vm.commits == std::vector<std::string>{"virtio0", "all"});
    CHECK(m.run("commit nope") == crlf("Device 'nope' not found\n"));
    m.vm.commit_result = -95;
    CHECK(m.run("commit d2") == crlf("'commit' error for 'd2': Operation not supported\n"));
    CHECK(m.run("commit") == crlf("commit: block device name expected\nTry \"help commit\" for more information\n"));
}
