// The generic device register fuzzer (device_fuzzer.h says how to add a
// device). One input = one freshly realized device and a guest's accesses.
#include "device_fuzzer.h"

#include "block/drive_config.h"
#include "devices/device.h"
#include "devices/device_config.h"
#include "devices/device_types.h"
#include "devices/pci/pci_regs.h"
#include "fuzz_device_context.h"
#include "fuzz_support.h"

#include <algorithm>

namespace kestrel::fuzz {
namespace {

enum class Op : uint8_t {
    Write,        // u8 region, u32 offset, u8 size, u64 value
    Read,         // u8 region, u32 offset, u8 size
    ConfigWrite,  // u8 function, u8 offset, u8 size, u32 value (through 0xCF8/0xCFC)
    ConfigRead,   // u8 function, u8 offset, u8 size
    Poke,         // u32 guest address, u16 length, bytes
    RunLoop,      // u8: rounds (bits 0-2); bit 7: then render every console (bit 6: in full)
    PlaceBars,    // firmware: every BAR at its place, decoding and bus mastering on
    Reset,
    PauseResume,
    HostInput,    // u8 length, bytes: typed into the device's chardev
    Count,
};

// What the guest can reach: every range on the port and memory buses.
// Built again only when a bus changed (after every write it was half the
// time of the VGA targets).
struct Regions {
    std::vector<std::pair<Bus*, Bus::Mapping>> all;
    std::pair<uint64_t, uint64_t> generations{~0ull, ~0ull};
    void refresh(FuzzDeviceContext& ctx) {
        const std::pair now{ctx.pio_bus.generation(), ctx.mmio_bus.generation()};
        if (now == generations) return;
        generations = now;
        all.clear();
        for (Bus* bus : {&ctx.pio_bus, &ctx.mmio_bus})
            for (auto& m : bus->mappings()) all.emplace_back(bus, std::move(m));
    }
};

struct PciFunctionRef {
    unsigned slot, function;
};

std::vector<PciFunctionRef> pci_functions(const PciBus& bus) {
    std::vector<PciFunctionRef> out;
    for (unsigned slot = 0; slot < pci::SLOTS_PER_BUS; ++slot)
        for (unsigned fn = 0; fn < pci::FUNCTIONS_PER_SLOT; ++fn)
            if (bus.device(slot, fn)) out.push_back({slot, fn});
    return out;
}

unsigned access_size(uint8_t v) { return 1u << (v & 3); }

struct Target : DeviceCheckContext {
    FuzzDeviceContext ctx{kDeviceFuzzSpec.ram_size};
    std::vector<DriveConfig> drive_configs;
    std::unique_ptr<Device> device;
    std::vector<std::unique_ptr<Device>> children;
    std::vector<PciFunctionRef> functions;
    Regions regions;

    const DriveConfig* find_drive(std::string_view id) const override {
        for (const DriveConfig& d : drive_configs)
            if (d.id == id) return &d;
        return nullptr;
    }
    unsigned count_before(std::string_view) const override { return 0; }
    std::string find_data_file(const std::string&) const override { return {}; }

    void realize() {
        const DeviceFuzzSpec& spec = kDeviceFuzzSpec;
        ctx.facts = {std::min<uint64_t>(spec.ram_size, 0xe0000000), 0, spec.cpus};
        for (unsigned i = 0; i < std::max(spec.max_cpus, spec.cpus); ++i)
            ctx.facts.possible_cpus.push_back({i, i < spec.cpus});
        for (const std::string& id : spec.drives) {
            DriveConfig d;
            d.id = id;
            d.file = "fuzz-disk";
            drive_configs.push_back(d);
            ctx.drives[id] = std::make_shared<MemoryDisk>(ctx.ram, spec.disk_size, spec.read_only_drives);
        }
        const DeviceType* type = find_device_type(spec.type);
        FUZZ_CHECK(type, "the spec names a type that is not in the device table");
        DeviceConfig config{"", type, "", false, type->default_values()};
        for (const auto& [key, value] : spec.properties) config.props.set(key, value);
        const bool placed = std::any_of(spec.properties.begin(), spec.properties.end(),
                                        [](const auto& p) { return p.first == "addr"; });
        if (type->bus == BusKind::Pci && !placed) config.props.set("addr", "4");
        if (type->complete) type->complete(config, *this);
        device = type->create(std::move(config));
        device->set_qom_path("/machine/peripheral-anon/device[0]");
        device->realize(ctx);
        for (const DeviceFuzzSpec::Child& c : spec.children) {
            const DeviceType* child_type = find_device_type(c.type);
            FUZZ_CHECK(child_type, "the spec names a child type that is not in the device table");
            DeviceConfig child{"", child_type, "", false, child_type->default_values(), c.bus};
            for (const auto& [key, value] : c.properties) child.props.set(key, value);
            children.push_back(child_type->create(std::move(child)));
            children.back()->set_qom_path("/machine/peripheral-anon/device[" + std::to_string(children.size()) + "]");
            children.back()->realize(ctx);
        }
        ctx.map_config_ports();
        ctx.connect_chardevs();
        functions = pci_functions(ctx.pci_bus);
        regions.refresh(ctx);
    }

    void access(ByteReader& in, bool write) {
        const uint8_t index = in.u8();
        const uint32_t offset = in.u32();
        const unsigned size = access_size(in.u8());
        const uint64_t value = write ? in.u64() : 0;
        if (regions.all.empty()) return;
        auto& [bus, m] = regions.all[index % regions.all.size()];
        // A few bytes past the end too: accesses that straddle a range's end.
        const uint64_t addr = m.base + offset % (m.len + 8);
        uint8_t buf[8];
        store_le({buf, size}, value);
        if (write) {
            bus->write(addr, {buf, size});
            regions.refresh(ctx);  // a write may move or enable a BAR
        } else {
            bus->read(addr, {buf, size});
        }
    }

    void config(ByteReader& in, bool write) {
        const uint8_t index = in.u8();
        const uint8_t offset = in.u8();
        const unsigned size = std::min(access_size(in.u8()), 4u);
        const uint32_t value = write ? in.u32() : 0;
        if (functions.empty()) return;
        const PciFunctionRef f = functions[index % functions.size()];
        uint8_t buf[4];
        store_le(buf, PciConfigIo::ENABLE | f.slot << 11 | f.function << 8 | (offset & 0xfc));
        ctx.pio_bus.write(PciConfigIo::BASE, buf);
        store_le({buf, size}, value);
        const uint64_t data_port = PciConfigIo::BASE + 4 + (offset & 3);
        if (write) {
            ctx.pio_bus.write(data_port, {buf, size});
            regions.refresh(ctx);
        } else {
            ctx.pio_bus.read(data_port, {buf, size});
        }
    }

    void poke(ByteReader& in) {
        const uint64_t gpa = in.u32() % kDeviceFuzzSpec.ram_size;
        const auto bytes = in.bytes(in.u16() % 4096);
        const uint64_t room = kDeviceFuzzSpec.ram_size - gpa;
        ctx.ram.write(gpa, bytes.first(std::min<uint64_t>(bytes.size(), room)));
    }

    // As SeaBIOS does: I/O BARs from 0xc000, memory BARs from 0xfe000000,
    // each aligned to its size; then I/O, memory and bus mastering on.
    void place_bars() {
        uint64_t io = 0xc000, mem = 0xfe000000;
        for (const PciFunctionRef& f : functions) {
            auto dev = ctx.pci_bus.device(f.slot, f.function);
            for (unsigned i = 0; i < pci::BAR_COUNT; ++i) {
                auto spec = dev->bar_spec(i);
                if (!spec) continue;
                uint64_t& next = spec->kind == BarKind::Io ? io : mem;
                const uint64_t at = (next + spec->size - 1) / spec->size * spec->size;
                next = at + spec->size;
                ctx.pci_bus.config_write(f.slot, f.function, uint16_t(pci::BAR0 + 4 * i), 4, uint32_t(at));
                if (spec->kind == BarKind::Mem64)
                    ctx.pci_bus.config_write(f.slot, f.function, uint16_t(pci::BAR0 + 4 * i + 4), 4,
                                             uint32_t(at >> 32));
            }
            ctx.pci_bus.config_write(f.slot, f.function, pci::COMMAND, 2,
                                     pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_MASTER);
        }
        regions.refresh(ctx);
    }

    void host_input(ByteReader& in) {
        const auto bytes = in.bytes(in.u8());
        CharFrontend* frontend = ctx.chardev.frontend();
        if (!frontend) return;
        const size_t n = std::min(bytes.size(), frontend->can_receive());
        if (n) frontend->receive(bytes.first(n));
    }

    void run_loop(unsigned rounds) {
        for (unsigned i = 0; i < rounds; ++i) ctx.loop.run_once(0);
    }

    // As the display thread's refresh (or a screendump) does: the renderers
    // read the geometry, palette and VRAM the guest chose.
    void render(bool full) {
        for (const auto& console : ctx.displays.consoles()) console->refresh(full);
    }

    void play(ByteReader& in) {
        while (!in.done()) {
            switch (Op(in.u8() % uint8_t(Op::Count))) {
            case Op::Write: access(in, true); break;
            case Op::Read: access(in, false); break;
            case Op::ConfigWrite: config(in, true); break;
            case Op::ConfigRead: config(in, false); break;
            case Op::Poke: poke(in); break;
            case Op::RunLoop: {
                const uint8_t b = in.u8();
                run_loop(1 + b % 8);
                if (b & 0x80) render(b & 0x40);
                break;
            }
            case Op::PlaceBars: place_bars(); break;
            case Op::Reset: device->reset(); regions.refresh(ctx); break;
            case Op::PauseResume: device->pause(); device->resume(); break;
            case Op::HostInput: host_input(in); break;
            case Op::Count: break;
            }
        }
        run_loop(4);  // what the last accesses started
        for (auto it = children.rbegin(); it != children.rend(); ++it) (*it)->unrealize();
        device->unrealize();
    }
};

} // namespace
} // namespace kestrel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    kestrel::fuzz::Target target;
    target.realize();
    kestrel::fuzz::ByteReader in(data, size);
    target.play(in);
    return 0;
}
