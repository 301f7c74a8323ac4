#pragma once
// A machine with disks and nothing else, for the block commands of both
// monitors; the disks are the ones qemu-system-x86_64 7.2 reported for
//   -drive file=/tmp/dx.img,format=raw,if=virtio            (64 MiB)
//   -drive file=/tmp/dy.img,if=none,id=d2,cache=none,aio=native,readonly=on,discard=unmap
//   -device virtio-blk-pci,drive=d2,id=blk2                 (32 MiB)
#include "../stub_vm.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel::block_test {

class BlockFakeVm final : public test::StubVm, public BlockService {
public:
    std::vector<BlockDeviceInfo> disks;
    ServiceRegistry registry;

    BlockFakeVm() { registry.add<BlockService>(*this); }

    std::vector<BlockDeviceInfo> block_devices() const override { return disks; }
    std::vector<std::string> commits;  // devices HMP commit asked for
    int commit_result = 0;
    int commit(const std::string& device) override {
        bool known = device == "all";
        for (const BlockDeviceInfo& d : disks) known |= d.device == device;
        if (!known) throw std::invalid_argument("Device '" + device + "' not found");
        commits.push_back(device);
        return commit_result;
    }
    const ServiceRegistry& services() const override { return registry; }
};

inline BlockDeviceInfo qemu_virtio0(std::string node = "#block167", std::string file_node = "#block012") {
    BlockDeviceInfo b;
    b.device = "virtio0";
    b.qdev = "/machine/peripheral-anon/device[0]/virtio-backend";
    b.node_name = std::move(node);
    b.file_node_name = std::move(file_node);
    b.file = "/tmp/dx.img";
    b.virtual_size = 64ull << 20;
    return b;
}

inline BlockDeviceInfo qemu_d2(std::string node = "#block309", std::string file_node = "#block277") {
    BlockDeviceInfo b;
    b.device = "d2";
    b.qdev = "/machine/peripheral/blk2/virtio-backend";
    b.node_name = std::move(node);
    b.file_node_name = std::move(file_node);
    b.file = "/tmp/dy.img";
    b.read_only = true;
    b.direct = true;
    b.discard = "unmap";
    b.virtual_size = 32ull << 20;
    return b;
}

} // namespace kestrel::block_test
