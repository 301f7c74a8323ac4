#pragma once
// A machine with disks and nothing else, for the block commands of both
// monitors; the disks are the ones qemu-system-x86_64 7.2 reported for
//   -drive file=/tmp/dx.img,format=raw,if=virtio            (64 MiB)
//   -drive file=/tmp/dy.img,if=none,id=d2,cache=none,aio=native,readonly=on,discard=unmap
//   -device virtio-blk-pci,drive=d2,id=blk2                 (32 MiB)
#include "monitor/vm_control.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel::block_test {

class BlockFakeVm final : public VmControl, public BlockService {
public:
    std::vector<BlockDeviceInfo> disks;
    ServiceRegistry registry;

    BlockFakeVm() { registry.add<BlockService>(*this); }

    std::string name() const override { return ""; }
    std::string uuid() const override { return "00000000-0000-0000-0000-000000000000"; }
    VmStatus status() const override { return {"prelaunch", false}; }
    void stop() override {}
    void cont() override {}
    void system_reset() override {}
    void system_powerdown() override {}
    void quit() override {}
    void inject_nmi() override {}
    std::vector<VcpuInfo> cpus() const override { return {VcpuInfo{}}; }
    std::string cpu_registers_text(unsigned) override { return ""; }
    bool read_physical(uint64_t, std::span<uint8_t>) const override { return false; }
    bool read_virtual(unsigned, uint64_t, std::span<uint8_t>) override { return false; }
    std::vector<PciFunctionInfo> pci_functions() const override { return {}; }
    std::vector<ChardevInfo> chardevs() const override { return {}; }
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
    std::string info_text(std::string_view) override { return ""; }
    void set_log_items(const std::string&) override {}
    void set_log_file(const std::string&) override {}
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
