// fw_cfg_io: the pc's firmware configuration device at I/O ports
// 0x510-0x511 (selector and data) and 0x514-0x51b (DMA), as QEMU's. The
// board creates it; its table (FwCfg) is a service the machine and other
// devices fill.
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/fw_cfg/fw_cfg.h"

#include <algorithm>

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_bool("dma_enabled", true),
    prop_uint(PropType::Uint16, "x-file-slots", fwcfg::DEFAULT_FILE_SLOTS),
    prop_bool("acpi-mr-restore", true),
};

uint64_t load_be(std::span<const uint8_t> data) {
    uint64_t v = 0;
    for (uint8_t b : data) v = v << 8 | b;
    return v;
}

// 0x510: a 16-bit write selects, an 8-bit read reads data (at either
// port); other accesses read 0 and do nothing, as QEMU's.
class FwCfgPort final : public BusDevice {
public:
    explicit FwCfgPort(std::shared_ptr<FwCfg> cfg) : cfg_(std::move(cfg)) {}
    void read(uint64_t, std::span<uint8_t> data) override {
        store_le(data, data.size() == 1 ? cfg_->read_data(1) : 0);
    }
    void write(uint64_t, std::span<const uint8_t> data) override {
        if (data.size() == 2) cfg_->select(uint16_t(load_le(data)));
    }

private:
    std::shared_ptr<FwCfg> cfg_;
};

// 0x514: big-endian; the high half of the descriptor's address at 0x514,
// the low half at 0x518 (which starts the transfer). Reads give "QEMU CFG".
class FwCfgDmaPort final : public BusDevice {
public:
    explicit FwCfgDmaPort(std::shared_ptr<FwCfg> cfg) : cfg_(std::move(cfg)) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        for (size_t i = 0; i < data.size(); ++i) {
            uint64_t at = offset + i;
            data[i] = at < 8 ? uint8_t(fwcfg::DMA_SIGNATURE >> (8 * (7 - at))) : 0;
        }
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        if (data.size() == 4 && offset == 0) cfg_->write_dma_high(uint32_t(load_be(data)));
        if (data.size() == 4 && offset == 4) cfg_->write_dma_low(uint32_t(load_be(data)));
        if (data.size() == 8 && offset == 0) {
            uint64_t address = load_be(data);
            cfg_->write_dma_high(uint32_t(address >> 32));
            cfg_->write_dma_low(uint32_t(address));
        }
    }

private:
    std::shared_ptr<FwCfg> cfg_;
};

class FwCfgIo final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        bool dma = p.boolean("dma_enabled");
        cfg_ = std::make_shared<FwCfg>(context.memory(), uint16_t(p.uint("x-file-slots")), dma);
        context.pio().insert_or_throw(fwcfg::IO_PORT, fwcfg::IO_LEN, std::make_shared<FwCfgPort>(cfg_), "fwcfg");
        if (dma)
            context.pio().insert_or_throw(fwcfg::DMA_PORT, fwcfg::DMA_LEN, std::make_shared<FwCfgDmaPort>(cfg_),
                                          "fwcfg.dma");
        context.services().add<FwCfg>(*cfg_);
    }
    void reset() override {
        if (cfg_) cfg_->reset();
    }

private:
    std::shared_ptr<FwCfg> cfg_;
};

} // namespace

extern const DeviceType kFwCfgIoType = {
    .name = "fw_cfg_io",
    .bus = BusKind::System,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<FwCfgIo>,
    .qom_parent = "fw_cfg",
    .user_creatable = false,
};

} // namespace kestrel
