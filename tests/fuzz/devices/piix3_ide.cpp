// piix3-ide under the generic device register fuzzer (device_fuzzer.h):
// both channels' task files and data ports, the bus-master registers and
// PRD tables in fuzzed RAM, an ATA disk (ide0-hd0) and an ATAPI CD-ROM
// (ide1-cd0) on in-memory images.
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "piix3-ide",
    .properties = {{"addr", "1.1"}},
    .drives = {"ide0-hd0", "ide1-cd0"},
    .disk_size = 256 * 1024,
    .children = {{"ide-hd", "ide.0", {{"drive", "ide0-hd0"}, {"unit", "0"}, {"serial", "QM00001"}}},
                 {"ide-cd", "ide.1", {{"drive", "ide1-cd0"}, {"unit", "0"}, {"serial", "QM00003"}}}},
    .ram_size = 1 << 20,
};
