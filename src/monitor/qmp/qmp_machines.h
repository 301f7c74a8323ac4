#pragma once
// The QEMU version kestrel's QMP reports (libvirt picks features by it)
// and the machine types it accepts, as query-machines lists them.
#include "monitor/qmp/qmp_json.h"

namespace kestrel::qmp {

constexpr int kQmpQemuMajor = 7, kQmpQemuMinor = 2, kQmpQemuMicro = 0;

// {"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": "kestrel X.Y.Z"}
Json qmp_version_info();

// pc-i440fx-7.2 (alias "pc", the default) and the older pc-i440fx-X.Y
// names -M accepts (src/config/options_machine_cpu.cpp).
Json query_machines();

} // namespace kestrel::qmp
