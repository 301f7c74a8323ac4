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
    .ide_drives = {"ide0-hd0", "", "ide1-cd0", ""},
    .ide_cdrom = {false, false, true, false},
    .ram_size = 1 << 20,
};
