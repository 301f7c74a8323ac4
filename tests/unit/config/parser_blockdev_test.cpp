// -blockdev in both of QEMU's syntaxes: the drives its root nodes become,
// and QEMU 7.2's messages (checked against qemu-system-x86_64 7.2).
#include "parse_helpers.h"

#include "block/drive_config.h"
#include "config/json_keys.h"
#include "base/config_error.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::test;

TEST_CASE("JSON option values flatten to dotted keys with their types", "[blockdev][config]") {
    auto keys = flatten_json_object(
        R"( {"driver":"qcow2","file":{"driver":"file","filename":"/a\"b\u00e9"},"read-only":true,)"
        R"("backing":null,"l2-cache-size":1048576,"cache":{}} )");
    REQUIRE(keys.size() == 7);
    CHECK(keys[1].key == "file.driver");
    CHECK(keys[2].key == "file.filename");
    CHECK(keys[2].value == "/a\"b\xc3\xa9");
    CHECK((keys[3].type == TypedKey::Type::Bool && keys[3].value == "on"));
    CHECK(keys[4].type == TypedKey::Type::Null);
    CHECK((keys[5].type == TypedKey::Type::Number && keys[5].value == "1048576"));
    CHECK((keys[6].key == "cache" && keys[6].type == TypedKey::Type::Object));
    for (const char* bad : {"{", "{\"a\":", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":\"\\u12\"}", "[1]"})
        CHECK_THROWS_AS(flatten_json_object(bad), ConfigError);
}

TEST_CASE("-blockdev: libvirt's file and format node pair becomes one drive", "[blockdev][config]") {
    Config c = parse_ok({"-nodefaults", "-blockdev",
                         R"({"driver":"file","filename":"/tmp/x.qcow2","node-name":"libvirt-1-storage",)"
                         R"("auto-read-only":true,"discard":"unmap","aio":"io_uring","cache":{"direct":true,"no-flush":false}})",
                         "-blockdev",
                         R"({"node-name":"libvirt-1-format","read-only":false,"discard":"unmap",)"
                         R"("driver":"qcow2","file":"libvirt-1-storage","backing":null,"l2-cache-size":2097152})",
                         "-device", "virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0"});
    REQUIRE(c.drives.size() == 1);
    const DriveConfig& d = c.drives[0];
    CHECK(d.blockdev);
    CHECK(d.id == "libvirt-1-format");
    CHECK(d.node_name == "libvirt-1-format");
    CHECK(d.file_node_name == "libvirt-1-storage");
    CHECK(d.file == "/tmp/x.qcow2");
    CHECK(d.format == "qcow2");
    CHECK(d.cache_direct);
    CHECK(d.aio == "io_uring");
    CHECK(d.discard == "unmap");
    CHECK_FALSE(d.open_backing);
    CHECK(d.l2_cache_size == 2097152);
    CHECK(d.lock);
    REQUIRE(c.devices.size() >= 1);
    CHECK(c.devices.back().props.str("drive") == "libvirt-1-format");
}

TEST_CASE("-blockdev dotted keys: nested file node, inherited options, a bare file node", "[blockdev][config]") {
    Config c = parse_ok({"-nodefaults", "-blockdev", "driver=raw,node-name=r,read-only=on,file.driver=file,file.filename=/tmp/a",
                         "-blockdev", "file,node-name=f,filename=/tmp/b,locking=off,cache.no-flush=on",
                         "-drive", "file=/tmp/c,format=raw,if=none,id=d0"});
    REQUIRE(c.drives.size() == 3);
    CHECK(c.drives[0].id == "d0");  // -drive ones first, then the -blockdev roots
    CHECK(c.drives[1].id == "r");
    CHECK(c.drives[1].read_only);   // the nested file node inherits read-only
    CHECK(c.drives[1].file_node_name.empty());
    CHECK(c.drives[1].open_backing);
    CHECK(c.drives[2].protocol_only);
    CHECK_FALSE(c.drives[2].lock);
    CHECK(c.drives[2].cache_no_flush);
}

TEST_CASE("-blockdev errors are QEMU's", "[blockdev][config]") {
    CHECK(parse_error({"-blockdev", "driver=file"}) == "-blockdev driver=file: Parameter 'filename' is missing");
    CHECK(parse_error({"-blockdev", "driver=raw,node-name=r,file.driver=file"}) ==
          "-blockdev driver=raw,node-name=r,file.driver=file: Parameter 'file.filename' is missing");
    CHECK(parse_error({"-blockdev", "driver=file,node-name=f,filename=/a,read-only=maybe"}) ==
          "-blockdev driver=file,node-name=f,filename=/a,read-only=maybe: Parameter 'read-only' expects 'on' or 'off'");
    CHECK(parse_error({"-blockdev", "driver=file,node-name=f,filename=/a,locking=x"}) ==
          "-blockdev driver=file,node-name=f,filename=/a,locking=x: Parameter 'locking' does not accept value 'x'");
    CHECK(parse_error({"-blockdev", "driver=qcow2,node-name=q,file.driver=file,file.filename=/a,l2-cache-size=x"}) ==
          "-blockdev driver=qcow2,node-name=q,file.driver=file,file.filename=/a,l2-cache-size=x: "
          "Parameter 'l2-cache-size' expects integer");
    CHECK(parse_error({"-blockdev", "driver=file,node-name=f,filename=/a", "-blockdev", "driver=qcow2,node-name=q,file=f",
                       "-device", "virtio-blk-pci,drive=f"}) ==
          "-device virtio-blk-pci,drive=f: Property 'virtio-blk-device.drive' can't find value 'f'");
    CHECK(parse_error({"-blockdev", "driver=host_device,node-name=f,filename=/dev/sda"})
              .ends_with("block driver 'host_device' is not supported by kestrel yet (file, raw and qcow2 are)"));
    CHECK(parse_error({"-blockdev", "driver=qcow2,node-name=q,file.driver=file,file.filename=/a,backing=b"}) ==
          "-blockdev driver=qcow2,node-name=q,file.driver=file,file.filename=/a,backing=b: "
          "Cannot find device='b' nor node-name='b'");
}

TEST_CASE("-blockdev backing=NODE: libvirt's chain of nodes becomes one drive", "[blockdev][config]") {
    Config c = parse_ok({"-nodefaults", "-blockdev", R"({"driver":"file","filename":"/tmp/base.img","node-name":"libvirt-2-storage"})",
                         "-blockdev", R"({"node-name":"libvirt-2-format","read-only":true,"driver":"raw","file":"libvirt-2-storage"})",
                         "-blockdev", R"({"driver":"file","filename":"/tmp/top.qcow2","node-name":"libvirt-1-storage"})",
                         "-blockdev", R"({"node-name":"libvirt-1-format","driver":"qcow2","file":"libvirt-1-storage",)"
                                      R"("backing":"libvirt-2-format"})"});
    REQUIRE(c.drives.size() == 1);
    CHECK(c.drives[0].id == "libvirt-1-format");
    CHECK(c.drives[0].open_backing);
    CHECK(c.drives[0].expected_backing_file == "/tmp/base.img");
    CHECK(c.drives[0].expected_backing_format == "raw");
    CHECK(parse_error({"-blockdev", "driver=file,node-name=f,filename=/a", "-blockdev",
                       "driver=qcow2,node-name=q,file.driver=file,file.filename=/b,backing=f"})
              .ends_with("a backing node that is a file node is not supported by kestrel yet (give a raw or qcow2 "
                         "node over it)"));
}
