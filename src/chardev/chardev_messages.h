#pragma once
// Where a chardev's messages to the user go: stderr, prefixed the way QEMU
// prefixes them ("qemu-system-x86_64: -chardev socket,...: info: ...").
#include <iostream>
#include <string>

namespace kestrel {

struct ChardevMessages {
    std::string program = "kestrel";  // the prefix of every message
    std::string location;             // "-chardev socket,id=x,..." or ""

    // "PROGRAM: LOCATION: info: TEXT" (the location while the command line
    // is being acted on, as QEMU's error_report does).
    void info(const std::string& text) const { line(location.empty() ? "info: " + text : location + ": info: " + text); }
    // "PROGRAM: TEXT" (later, at run time: no location).
    void error(const std::string& text) const { line(text); }

private:
    void line(const std::string& text) const { std::cerr << program << ": " << text << std::endl; }
};

} // namespace kestrel
