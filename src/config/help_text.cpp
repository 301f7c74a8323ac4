// -version, -help and the "help" listings of -machine, -cpu, -accel,
// -display and -d (those of -device and -object are in their files), laid
// out like QEMU's so that people and scripts find things where they expect
// them.
#include "config/chardev_opts.h"
#include "config/cpu_features.h"
#include "config/parser.h"

#include "kestrel_version.h"

#include <iomanip>
#include <sstream>

namespace kestrel {

namespace {

// The QEMU release whose command line, defaults and messages kestrel follows.
constexpr const char* kQemuCompatVersion = "7.2.0";

constexpr const char* kUsageBody = R"(Standard options:
-h or -help     display this help and exit
-version        display version information and exit
-machine [type=]name[,prop[=value][,...]]
                selects emulated machine ('-machine help' for list)
                kestrel emulates pc (i440FX + PIIX); pc-i440fx-X.Y are aliases
                property accel=kvm selects the accelerator (kvm is the only one)
-cpu cpu        select CPU ('-cpu help' for list)
                cpu is host, max, qemu64 or kvm64 followed by
                ,+feature ,-feature or ,feature=on|off
-accel [accel=]accelerator[,prop[=value][,...]]
                select accelerator: kvm only ('-accel help' for list)
                kernel-irqchip=on uses KVM's in-kernel irqchip (always on)
-smp [[cpus=]n][,maxcpus=maxcpus][,sockets=sockets][,dies=dies][,cores=cores][,threads=threads]
                set the number of initial CPUs to 'n' [default=1]
                maxcpus= maximum number of CPUs, including offline ones
                sockets= number of sockets on the machine board
                dies= number of dies in one socket
                cores= number of cores in one die
                threads= number of threads in one core
                omitted values are computed from the given ones
-m [size=]megs[,slots=n,maxmem=size]
                configure guest RAM [default=128M]
                size: initial amount of guest memory (a bare number is MiB;
                      suffixes k, M, G, T, P, E)
                slots: number of hotplug slots (default: none)
                maxmem: maximum amount of guest memory (default: size)
-mem-path FILE  provide backing storage for guest RAM
-mem-prealloc   preallocate guest memory
-device driver[,prop[=value][,...]]
                add device (based on driver)
                prop=value,... sets driver properties
                use '-device help' to print all possible drivers
                use '-device driver,help' to print all possible properties
                (kestrel: virtio-blk-pci with drive=, id=, bootindex=, num-queues=,
                iothread=, serial=, addr=SLOT[.FN])
-name string1[,process=string2][,debug-threads=on|off]
                set the name of the guest
                string2 sets the process name; debug-threads=on names threads
-uuid %08x-%04x-%04x-%04x-%012x
                specify machine UUID

Block device options:
-drive [file=file][,if=type][,media=d][,index=i]
       [,cache=writethrough|writeback|none|directsync|unsafe][,format=f]
       [,cache.writeback=on|off][,cache.direct=on|off][,cache.no-flush=on|off]
       [,snapshot=on|off][,id=name][,serial=s]
       [,aio=threads|native|io_uring]
       [,readonly=on|off][,discard=ignore|unmap]
                use 'file' as a drive image
                (kestrel: if=virtio or if=none, format=raw, media=disk)

Display options:
-display none
                select display backend type (kestrel has no graphical display)
-nographic      disable graphical output and redirect serial I/Os to console
                (serial port and monitor multiplexed on stdio; Ctrl-A h for help)

Character device options:
-chardev help
-chardev null,id=id[,mux=on|off]
-chardev socket,id=id[,host=host],port=port[,to=to][,ipv4=on|off][,ipv6=on|off][,nodelay=on|off]
         [,server=on|off][,wait=on|off][,reconnect=seconds][,mux=on|off] (tcp)
-chardev socket,id=id,path=path[,server=on|off][,wait=on|off][,reconnect=seconds]
         [,mux=on|off] (unix)
-chardev udp,id=id[,host=host],port=port[,localaddr=localaddr]
         [,localport=localport][,ipv4=on|off][,ipv6=on|off][,mux=on|off]
-chardev file,id=id,path=path[,append=on|off][,mux=on|off]
-chardev pipe,id=id,path=path[,mux=on|off]
-chardev pty,id=id[,mux=on|off]
-chardev stdio,id=id[,mux=on|off][,signal=on|off]
                (kestrel has no telnet, websocket, TLS, fd= or logfile= options)

Boot Image or Kernel specific:
-kernel bzImage use 'bzImage' as kernel image
-append cmdline use 'cmdline' as kernel command line
-initrd file    use 'file' as initial ram disk

Debug/Expert options:
-serial dev     redirect the serial port to char device 'dev'
                (COM1..COM4 in order; 'dev' is stdio, null, none, pty, file:PATH,
                pipe:PATH, unix:PATH[,server=on|off][,wait=on|off],
                tcp:[HOST]:PORT[,server=on|off][,wait=on|off],
                udp:[HOST]:PORT[@[LOCALADDR]:LOCALPORT] or chardev:ID;
                mon:DEV also puts a monitor on DEV)
-monitor dev    redirect the monitor to char device 'dev'
-qmp dev        like -monitor but opens in 'control' mode
-qmp-pretty dev like -qmp but uses pretty JSON formatting
-mon [chardev=]name[,mode=readline|control][,pretty[=on|off]]
-pidfile file   write PID to 'file'
-S              freeze CPU at startup (use 'c' to start execution)
-d item1,...    enable logging of specified items (use '-d help' for a list of log items)
-D logfile      output log to logfile (default stderr)
-enable-kvm     enable KVM full virtualization support (the default in kestrel)
-no-reboot      exit instead of rebooting
-no-shutdown    stop before shutdown
-daemonize      daemonize after initializing
-rtc [base=utc|localtime|<datetime>][,clock=host|rt|vm][,driftfix=none|slew]
                set the RTC base and clock, enable drift fix for clock ticks
-nodefaults     don't create default devices

Generic object creation:
-object TYPENAME[,PROP1=VALUE1,...]
                create a new object of type TYPENAME setting properties
                in the order they are specified.  Note that the 'id'
                property must be set.  These objects are placed in the
                '/objects' path.
                (kestrel: iothread,id=id[,poll-max-ns=n][,poll-grow=n][,poll-shrink=n]
                [,aio-max-batch=n][,thread-pool-min=n][,thread-pool-max=n])
)";

void print_wrapped_words(std::ostream& out, std::span<const std::string_view> words) {
    size_t column = 0;
    for (std::string_view word : words) {
        if (column > 0 && column + 1 + word.size() > 76) {
            out << '\n';
            column = 0;
        }
        out << (column == 0 ? "  " : " ") << word;
        column += (column == 0 ? 2 : 1) + word.size();
    }
    out << '\n';
}

} // namespace

void print_version(std::ostream& out) {
    out << "QEMU emulator version " << kQemuCompatVersion << " (kestrel " << KESTREL_VERSION
        << ")\n"
        << "Copyright (c) 2026 the kestrel developers; command line compatible with QEMU "
        << kQemuCompatVersion << "\n";
}

void print_usage(std::ostream& out, const std::string& program) {
    print_version(out);
    out << "usage: " << program << " [options]\n\n" << kUsageBody;
}

void print_machine_help(std::ostream& out) {
    out << "Supported machines are:\n"
        << "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n"
        << "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n"
        << "pc-i440fx-X.Y        (X.Y from 1.4 to 7.1) accepted as pc-i440fx-7.2\n";
}

void print_cpu_help(std::ostream& out) {
    out << "Available CPUs:\n"
        << "x86 host                  processor with all features KVM supports on this host\n"
        << "x86 kvm64                 Common KVM processor\n"
        << "x86 max                   Enables all features supported by KVM on this host\n"
        << "x86 qemu64                QEMU Virtual CPU version 2.5+\n"
        << "\nRecognized CPUID flags:\n";
    print_wrapped_words(out, cpuid_flag_names());
}

void print_accel_help(std::ostream& out) {
    out << "Accelerators supported in kestrel:\nkvm\n";
}

void print_display_help(std::ostream& out) {
    out << "Available display backend types:\nnone\n";
}

void print_chardev_help(std::ostream& out) {
    out << "Available chardev backend types: ";  // sic: QEMU's trailing blank
    for (std::string_view name : chardev_backend_names())
        out << "\n  " << name;
    out << '\n';
}

namespace {

void print_log_items(std::ostream& out) {
    for (const LogItem& item : log_item_table()) {
        out << std::left << std::setw(15) << item.name << ' ' << item.description
            << (item.no_effect ? " (no effect in kestrel)" : "") << '\n';
    }
    out << "all             every item above\n";
}

} // namespace

void print_log_help(std::ostream& out) {
    out << "Log items (comma separated):\n";
    print_log_items(out);
}

// HMP's `log` with no valid item lists "none" first, as QEMU's monitor does.
std::string monitor_log_help() {
    std::ostringstream out;
    out << "Log items (comma separated):\n"
        << "none            remove all logs\n";
    print_log_items(out);
    std::string text = out.str();
    text.pop_back();
    return text;
}

} // namespace kestrel
