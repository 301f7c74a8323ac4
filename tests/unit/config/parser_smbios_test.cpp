// -smbios and -machine smbios-entry-point-type: values and QEMU 7.2's errors.
#include "tests/unit/config/parse_helpers.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("-smbios type=1 fields and uuid set the machine's values", "[config][smbios]") {
    Config c = parse_ok({"-smbios", "type=1,manufacturer=ACME,product=Box,,One,serial=S1,uuid=12345678-9ABC-def0-1234-56789abcdef0"});
    CHECK(*c.smbios.type1.manufacturer == "ACME");
    CHECK(*c.smbios.type1.product == "Box,One");
    CHECK(*c.smbios.type1.serial == "S1");
    CHECK_FALSE(c.smbios.type1.version);
    CHECK(c.uuid == "12345678-9abc-def0-1234-56789abcdef0");
    CHECK(c.smbios.from_fields[1]);
    CHECK_FALSE(c.smbios.from_fields[0]);
}

TEST_CASE("-smbios type=0,4,11,17 values", "[config][smbios]") {
    Config c = parse_ok({"-smbios", "type=0,vendor=V,release=1.300,uefi=on", "-smbios",
                         "type=4,sock_pfx=S,max-speed=3000,current-speed=0x10,processor-id=7", "-smbios",
                         "type=11,value=a,value=b", "-smbios", "type=11,value=c", "-smbios", "type=17,speed=1600",
                         "-smbios", "type=8,internal_reference=J1,port_type=9"});
    CHECK(*c.smbios.type0.vendor == "V");
    CHECK(c.smbios.type0.release->first == 1);
    CHECK(c.smbios.type0.release->second == uint8_t(300));  // sscanf's %hhu wraps, as in QEMU
    CHECK(c.smbios.type0.uefi);
    CHECK(c.smbios.type4.max_speed == 3000);
    CHECK(c.smbios.type4.current_speed == 16);
    CHECK(c.smbios.type4.processor_id == 7);
    CHECK(c.smbios.type11 == std::vector<std::string>{"a", "b", "c"});
    CHECK(c.smbios.type17.speed == 1600);
    REQUIRE(c.smbios.type8.size() == 1);
    CHECK(c.smbios.type8[0].port_type == 9);
    CHECK(c.smbios.entry_point == SmbiosConfig::EntryPoint::Bits32);
    CHECK(parse_ok({"-machine", "smbios-entry-point-type=64"}).smbios.entry_point ==
          SmbiosConfig::EntryPoint::Bits64);
}

TEST_CASE("-smbios file= reads the structure; type 11 path= reads a file", "[config][smbios]") {
    const std::string stem = "/tmp/kestrel-smbios-unit-" + std::to_string(getpid());  // two runs may overlap
    const std::string blob = stem + "-blob", text = stem + "-text";
    std::ofstream(blob, std::ios::binary).write("\x02\x05\x00\x02\x00\x00\x00", 7);
    std::ofstream(text) << "from a file";
    Config c = parse_ok({"-smbios", "file=" + blob, "-smbios", "type=11,path=" + text});
    REQUIRE(c.smbios.blobs.size() == 1);
    CHECK(c.smbios.blobs[0].size() == 7);
    CHECK(c.smbios.from_file[2]);
    CHECK(c.smbios.type11 == std::vector<std::string>{"from a file"});
    CHECK(parse_error({"-smbios", "file=" + blob, "-smbios", "type=2,serial=x"}) ==
          "-smbios type=2,serial=x: can't add fields, binary file already loaded!");
    CHECK(parse_error({"-smbios", "type=2,serial=x", "-smbios", "file=" + blob}) ==
          "-smbios file=" + blob + ": can't load type 2 struct, fields already specified!");
    std::ofstream(blob, std::ios::binary).write("\x02\x05\x00", 3);  // shorter than a header
    CHECK(parse_error({"-smbios", "file=" + blob}) == "-smbios file=" + blob + ": Cannot read SMBIOS file " + blob);
    std::remove(blob.c_str());
    std::remove(text.c_str());
}

TEST_CASE("-smbios errors are QEMU 7.2's", "[config][smbios]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"type=99", "Don't know how to build fields for SMBIOS type 99"},
        {"type=5", "Don't know how to build fields for SMBIOS type 5"},
        {"type=200", "out of range!"},
        {"type=-1", "out of range!"},
        {"type=18446744073709551615", "out of range!"},
        {"type=abc", "Parameter 'type' expects a number"},
        {"foo=bar", "Must specify type= or file="},
        {"type=1,foo=bar", "Invalid parameter 'foo'"},
        {"type=1,uuid=xyz", "Invalid UUID"},
        {"type=0,release=abc", "Invalid release"},
        {"type=0,release=1", "Invalid release"},
        {"type=0,uefi=maybe", "Parameter 'uefi' expects 'on' or 'off'"},
        {"type=4,max-speed=70000", "SMBIOS CPU speed is too large (> 65535)"},
        {"type=4,current-speed=-1", "SMBIOS CPU speed is too large (> 65535)"},
        {"type=17,speed=abc", "Parameter 'speed' expects a number"},
        {"type=11,foo=1", "Invalid parameter 'foo'"},
        {"type=11,value=a,path=/nonexistent", "Could not open '/nonexistent': No such file or directory"},
        {"file=/nonexistent", "Cannot read SMBIOS file /nonexistent"},
        {"file=/tmp", "Cannot read SMBIOS file /tmp"},
        {"file=/nonexistent,type=1", "Invalid parameter 'type'"},
        {"type=41,kind=sata-controller", "invalid parameter value: sata-controller"},
        {"type=41,instance=x", "Parameter 'instance' expects a number"},
    };
    for (const auto& [value, message] : cases) {
        INFO(value);
        CHECK(parse_error({"-smbios", value}) == "-smbios " + value + ": " + message);
    }
    CHECK(parse_error({"-machine", "smbios-entry-point-type=16"}) ==
          "Parameter 'smbios-entry-point-type' does not accept value '16'");
}

TEST_CASE("-smbios type=41: kinds in SMBIOS's numbering, instance, pcidev", "[config][smbios]") {
    Config c = parse_ok({"-smbios", "type=41,designation=LAN,kind=ethernet,instance=3,pcidev=n0", "-smbios",
                         "type=41,kind=sas"});
    REQUIRE(c.smbios.type41.size() == 2);
    CHECK(*c.smbios.type41[0].designation == "LAN");
    CHECK(c.smbios.type41[0].kind == 5);
    CHECK(c.smbios.type41[0].instance == 3);
    CHECK(*c.smbios.type41[0].pcidev == "n0");
    CHECK(c.smbios.type41[1].kind == 10);
    CHECK(c.smbios.type41[1].instance == 1);
    CHECK_FALSE(c.smbios.type41[1].pcidev);
}
