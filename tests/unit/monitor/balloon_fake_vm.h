#pragma once
// A machine with a 1 GiB guest, a virtio-balloon-pci with id b0 and a
// virtio-blk-pci with id disk, for the balloon and QOM commands of both
// monitors. The balloon service is a fake that records what it is asked.
#include "devices/balloon_service.h"
#include "devices/device_types.h"
#include "stub_vm.h"

#include <memory>
#include <string>
#include <vector>

namespace kestrel::balloon_test {

class FakeBalloon final : public BalloonService {
public:
    std::string path = "/machine/peripheral/b0";
    uint64_t actual_bytes = 1ull << 30;
    std::vector<uint64_t> targets;
    BalloonGuestStats stats;
    int64_t interval = 0;
    std::function<void(uint64_t)> listener;

    FakeBalloon() { stats.values.fill(UINT64_MAX); }
    const std::string& qom_path() const override { return path; }
    uint64_t actual() const override { return actual_bytes; }
    void set_target(uint64_t target) override { targets.push_back(target); }
    BalloonGuestStats guest_stats() const override { return stats; }
    int64_t stats_polling_interval() const override { return interval; }
    void set_stats_polling_interval(int64_t seconds) override { interval = seconds; }
    void on_change(std::function<void(uint64_t)> l) override { listener = std::move(l); }
};

class BalloonFakeVm final : public test::StubVm {
public:
    FakeBalloon balloon;
    ServiceRegistry registry;
    DeviceTree tree;

    explicit BalloonFakeVm(bool with_balloon = true) {
        if (with_balloon) {
            registry.add<BalloonService>(balloon);
            add("virtio-balloon-pci", "b0", {{"addr", "5"}});
        }
        add("virtio-blk-pci", "disk", {{"drive", "d0"}});
        add("virtio-blk-pci", "", {{"drive", "d1"}});
    }

    void add(const char* type_name, std::string id, std::vector<std::pair<const char*, const char*>> props) {
        const DeviceType* type = find_device_type(type_name);
        DeviceConfig config{"", type, std::move(id), false, type->default_values()};
        for (auto [key, value] : props) config.props.set(key, value);
        tree.add(type->create(std::move(config)), false);
    }

    const DeviceTree& devices() const override { return tree; }
    const ServiceRegistry& services() const override { return registry; }
};

} // namespace kestrel::balloon_test
