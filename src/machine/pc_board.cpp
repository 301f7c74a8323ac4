#include "machine/pc_board.h"

#include "base/file_bytes.h"
#include "base/sandbox.h"
#include "chardev/chardev_set.h"
#include "devices/device_types.h"
#include "devices/misc_ports/post_code_port.h"
#include "devices/kvm_device_memory.h"
#include "devices/pc_layout.h"
#include "devices/pci/kvm_plumbing.h"
#include "devices/serial/shared_irq_line.h"
#include "machine/acpi/acpi_tables.h"
#include "machine/boot_order.h"
#include "machine/cmos_disks.h"
#include "vcpu/topology.h"
#include "devices/fw_cfg/fw_cfg.h"
#include "kvm/pam_memory.h"

#include "config/parse_state.h"
#include "config/user_objects.h"
#include "devices/pci/pci_function_device.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <stdexcept>

namespace kestrel {

PcBoard::PcBoard(const PcBoardSetup& s)
    : setup_(s), pci_(s.pio, s.mmio), plumbing_(std::make_shared<KvmPlumbing>(s.vm)),
      device_memory_(std::make_shared<KvmDeviceMemory>(s.vm, s.mmio, s.pio, s.loop)), drives_(s.cfg.drives), net_(s.loop),
      devices_(s.cfg.smp.cpus) {
    facts_ = {s.memory.below_4g(), s.memory.above_4g(), s.cfg.smp.cpus};
    facts_.boot_cpus = s.cfg.smp.present_count();
    for (unsigned i = 0; i < std::max(s.cfg.smp.maxcpus, s.cfg.smp.cpus); ++i)
        facts_.possible_cpus.push_back({apic_id_for(i, s.cfg.smp), s.cfg.smp.present(i)});
    facts_.boot_order = s.cfg.boot.order;
    facts_.boot_once = s.cfg.boot.once;
    for (unsigned irq = 0; irq < 16; ++irq) {
        if (irq == 2) continue;  // the cascade
        irq_outputs_[irq] = s.vm.irq_line(irq);
        irqs_[irq] = std::make_unique<SharedIrqLine>(*irq_outputs_[irq]);
    }
    for (const IothreadConfig& io : s.cfg.iothreads) {
        iothreads_.push_back(std::make_unique<IoThread>(io.id));
        user_iothreads_.list.push_back({io, iothreads_.back().get()});
    }
    for (const RngObjectConfig& r : s.cfg.rng_objects) rng_backends_.add(open_rng_object(r));
    services_.add<UserIothreads>(user_iothreads_);
    services_.add<RngBackends>(rng_backends_);
    services_.add<BlockService>(drives_);
    services_.add<MediumService>(drives_);
    services_.add<NetService>(net_);
    services_.add<NetClients>(net_);
    services_.add<DisplayService>(displays_);
    services_.add<InputService>(input_);
    services_.add<KeyQueue>(keys_);
    services_.add<UsbBuses>(usb_);
    services_.add<IdeBuses>(ide_);
    services_.add<VirtioSerialBuses>(virtio_serial_);
    services_.add<BalloonEvents>(balloon_events_);
    if (s.pam) services_.add<PamMemory>(*s.pam);
    // The POST code port is part of the board, not a device (QEMU's "ioport80").
    s.pio.insert_or_throw(PostCodePort::kPort, PostCodePort::kLength, std::make_shared<PostCodePort>(), "ioport80");
    find_option_roms();
    add_devices();
    net_.open(s.cfg.netdevs);  // taps, scripts, bridge helpers: after every check of the command line
    net_.each_guestfwd_chardev([this](const std::string& id, auto connect) { use_chardev(id, std::move(connect)); });
    // Each device's own threads (io_loop without an iothread id) end when
    // it is unplugged.
    size_t threads_seen = iothreads_.size();
    devices_.on_realized([this, &threads_seen](const Device& device) {
        for (; threads_seen < iothreads_.size(); ++threads_seen)
            own_threads_[&device].push_back(iothreads_[threads_seen].get());
    });
    devices_.realize_all(*this);
    devices_.on_realized(nullptr);
    describe_ide_disks_in_cmos(services_);
    drives_.open_unused();
    start_hotplug();
}

PcBoard::~PcBoard() { stop_threads(); }

void PcBoard::add_devices() {
    auto board_path = [](const DeviceConfig& d) {
        for (const pc::BoardDevice& b : pc::kBoardDevices)
            if (b.type == d.type->name) return std::string(b.qom_path);
        return std::string();
    };
    for (const ColdPluggedCpu& cpu : setup_.cfg.smp.plugged)
        if (cpu.id.empty()) devices_.reserve_anonymous(cpu.anonymous_number);
    for (const DeviceConfig& d : setup_.cfg.board_devices) devices_.add(d.type->create(d), true, board_path(d));
    for (const DeviceConfig& d : setup_.cfg.devices) devices_.add(d.type->create(d), false);
}

// QEMU's rom_add_option for each -option-rom: a file it cannot open is
// reported and left out; the machine starts anyway.
void PcBoard::find_option_roms() {
    for (const OptionRomConfig& rom : setup_.cfg.option_roms) {
        std::string path = find_data_file(setup_.cfg.boot.data_dirs, rom.file);
        if (path.empty()) {
            std::fprintf(stderr, "Could not open option rom '%s': No such file or directory\n", rom.file.c_str());
            continue;
        }
        option_roms_.push_back({"genroms/" + rom_file_basename(rom.file), path, rom.bootindex});
    }
}

namespace {
std::vector<uint8_t> read_option_rom(const std::string& path, const std::string& name) {
    auto bytes = read_file_bytes(path);
    if (!bytes) throw std::runtime_error("Could not load option rom '" + name + "'");
    return std::move(*bytes);
}
} // namespace

void PcBoard::stop_threads() {
    displays_.stop();
    for (auto& t : iothreads_) t->stop();
}

void PcBoard::enter_thread_sandboxes() {
    threads_sandboxed_ = true;
    for (auto& t : iothreads_) sandbox_thread(*t);
}

// The Io class's filter, stacked by the thread itself.
void PcBoard::sandbox_thread(IoThread& t) {
    {
        std::promise<void> entered;
        auto done = entered.get_future();
        t.loop().post([&entered] {
            try {
                enter_thread_sandbox(ThreadClass::Io);
                entered.set_value();
            } catch (...) {
                entered.set_exception(std::current_exception());
            }
        });
        done.get();  // rethrows the thread's failure
    }
}

IrqLine& PcBoard::isa_irq(unsigned irq) {
    if (irq >= 16 || !irqs_[irq]) throw std::invalid_argument("no ISA IRQ " + std::to_string(irq));
    return irqs_[irq]->add_input();
}

EventLoop& PcBoard::io_loop(const std::string& id, const std::string& thread_name) {
    if (id.empty()) {
        iothreads_.push_back(std::make_unique<IoThread>(thread_name));
        return iothreads_.back()->loop();
    }
    for (auto& t : iothreads_)
        if (t->id() == id) return t->loop();
    throw std::runtime_error("iothread '" + id + "' not found");
}

// A device added once the chardevs are open (device_add) gets its at once.
void PcBoard::use_chardev(const std::string& id, std::function<void(Chardev&)> connect) {
    if (id.empty()) return;
    if (chardevs_) connect(chardevs_->claim(id));
    else chardev_users_.emplace_back(id, std::move(connect));
}

void PcBoard::connect_chardevs(ChardevSet& chardevs) {
    for (auto& [id, connect] : chardev_users_) connect(chardevs.claim(id));
    chardev_users_.clear();
    chardevs_ = &chardevs;
}

std::shared_ptr<BlockBackend> PcBoard::drive(const std::string& id, const std::string& qdev) {
    return drives_.open(id, qdev);
}

// The DSDT lists the COM ports the ISA serial devices occupy and the pvpanic port.
AcpiConfig PcBoard::acpi_config(const SmpConfig& smp) const {
    AcpiConfig acpi;
    acpi.smp = smp;
    for (const auto& device : devices_.devices()) {
        if (device->type().name == "isa-serial") acpi.serial_ports |= 1u << device->properties().uint("index");
        if (device->type().name == "pvpanic") acpi.pvpanic_port = uint16_t(device->properties().uint("ioport"));
    }
    return acpi;
}

uint64_t PcBoard::write_acpi_tables(const SmpConfig& smp) const {
    return build_acpi_tables(setup_.memory, acpi_config(smp));
}

void PcBoard::refresh_firmware_acpi(FwCfg& fw_cfg, const SmpConfig& smp) const {
    AcpiFwCfgFiles acpi = build_acpi_fw_cfg_files(setup_.memory.below_4g(), acpi_config(smp));
    fw_cfg.set_file(AcpiFwCfgFiles::TABLES, FwCfgItem{std::move(acpi.tables)});
    fw_cfg.set_file(AcpiFwCfgFiles::RSDP, FwCfgItem{std::move(acpi.rsdp)});
    fw_cfg.set_file(AcpiFwCfgFiles::LOADER, FwCfgItem{std::move(acpi.loader)});
}

void PcBoard::add_firmware_fw_cfg_items(FwCfg& fw_cfg) const {
    refresh_firmware_acpi(fw_cfg, setup_.cfg.smp);
    std::vector<std::pair<int64_t, std::string>> rom_boot;
    for (const OptionRom& rom : option_roms_) {
        fw_cfg.add_file(rom.fw_cfg_name, read_option_rom(rom.path, rom.fw_cfg_name));
        if (rom.bootindex) rom_boot.emplace_back(*rom.bootindex, "/rom@" + rom.fw_cfg_name);
    }
    // rombar=0: the device's ROM as a file instead of in its BAR.
    for (const auto& device : devices_.devices()) {
        auto* pci = dynamic_cast<const PciFunctionDevice*>(device.get());
        if (pci && pci->firmware_rom())
            fw_cfg.add_file(pci->firmware_rom()->fw_cfg_name,
                            read_option_rom(pci->firmware_rom()->path, pci->firmware_rom()->fw_cfg_name));
    }
    fw_cfg.add_file("bootorder", boot_order_file(devices_, setup_.cfg.boot.strict, rom_boot));
}

} // namespace kestrel
