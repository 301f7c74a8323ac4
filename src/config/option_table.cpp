#include "config/option_table.h"

#include <ostream>

namespace kestrel {

namespace {

using Section = OptionDef::Section;

void set_cpu(ParseState& st, const ArgToken& t) {
    st.cpu = LocatedText{t.location(), *t.value};
}

void set_mem_path(ParseState& st, const ArgToken& t) {
    st.cfg.memory.mem_path = *t.value;
}

void set_mem_prealloc(ParseState& st, const ArgToken&) {
    st.cfg.memory.prealloc = true;
}

void set_nographic(ParseState& st, const ArgToken&) {
    st.cfg.display = DisplayKind::Nographic;
}

void set_kernel(ParseState& st, const ArgToken& t) {
    st.cfg.boot.kernel = *t.value;
    st.kernel_given = true;
}

void set_append(ParseState& st, const ArgToken& t) {
    st.cfg.boot.append = *t.value;
    st.append_given = true;
}

void set_initrd(ParseState& st, const ArgToken& t) {
    st.cfg.boot.initrd = *t.value;
    st.initrd_given = true;
}

void set_bios(ParseState& st, const ArgToken& t) { st.cfg.boot.bios = *t.value; }

void add_data_dir(ParseState& st, const ArgToken& t) { st.cfg.boot.data_dirs.push_back(*t.value); }

void set_pidfile(ParseState& st, const ArgToken& t) {
    st.cfg.pidfile = *t.value;
}

void set_start_paused(ParseState& st, const ArgToken&) {
    st.cfg.start_paused = true;
}

void set_logfile(ParseState& st, const ArgToken& t) {
    st.cfg.logfile = *t.value;
}

void set_snapshot(ParseState& st, const ArgToken&) { st.cfg.snapshot = true; }

void set_no_reboot(ParseState& st, const ArgToken&) {
    st.cfg.no_reboot = true;
}

void set_no_shutdown(ParseState& st, const ArgToken&) {
    st.cfg.no_shutdown = true;
}

void set_daemonize(ParseState& st, const ArgToken&) {
    st.cfg.daemonize = true;
}

void set_nodefaults(ParseState& st, const ArgToken&) {
    st.cfg.nodefaults = true;
}

// kestrel's PC has no HPET: the board already is what -no-hpet asks for
// (libvirt passes it for virt-install's <timer name='hpet' present='no'/>).
void ignore_no_hpet(ParseState&, const ArgToken&) {}

// kestrel reads no configuration files of its own, so there are none to skip.
void ignore_no_user_config(ParseState&, const ArgToken&) {}

void set_chroot(ParseState& st, const ArgToken& t) {
    st.cfg.chroot_dir = *t.value;
}

constexpr OptionDef kOptions[] = {
    {"h", false, nullptr, Section::Standard,
     "-h or -help     display this help and exit\n"},
    {"help", false, nullptr, Section::Standard,
     ""},
    {"version", false, nullptr, Section::Standard,
     "-version        display version information and exit\n"},
    {"machine", true, handle_machine, Section::Standard,
     "-machine [type=]name[,prop[=value][,...]]\n"
     "                selects emulated machine ('-machine help' for list)\n"
     "                kestrel emulates pc (i440FX + PIIX); pc-i440fx-X.Y are aliases\n"
     "                property accel=kvm selects the accelerator (kvm is the only one)\n"},
    {"M", true, handle_machine, Section::Standard,
     ""},
    {"cpu", true, set_cpu, Section::Standard,
     "-cpu cpu        select CPU ('-cpu help' for list)\n"
     "                cpu is host, max, qemu64 or kvm64 followed by\n"
     "                ,+feature ,-feature or ,feature=on|off\n"},
    {"accel", true, handle_accel, Section::Standard,
     "-accel [accel=]accelerator[,prop[=value][,...]]\n"
     "                select accelerator: kvm only ('-accel help' for list)\n"
     "                kernel-irqchip=on uses KVM's in-kernel irqchip (always on)\n"},
    {"smp", true, handle_smp, Section::Standard,
     "-smp [[cpus=]n][,maxcpus=maxcpus][,sockets=sockets][,dies=dies][,cores=cores][,threads=threads]\n"
     "                set the number of initial CPUs to 'n' [default=1]\n"
     "                maxcpus= maximum number of CPUs, including offline ones\n"
     "                sockets= number of sockets on the machine board\n"
     "                dies= number of dies in one socket\n"
     "                cores= number of cores in one die\n"
     "                threads= number of threads in one core\n"
     "                omitted values are computed from the given ones\n"},
    {"add-fd", true, handle_add_fd, Section::Standard,
     "-add-fd fd=fd,set=set[,opaque=opaque]\n"
     "                Add 'fd' to fd 'set'\n"},
    {"global", true, handle_global, Section::Standard,
     "-global driver.prop=value\n"
     "                set a global default for a driver property\n"},
    {"boot", true, handle_boot, Section::Standard,
     "-boot [order=drives][,once=drives][,menu=on|off]\n"
     "      [,splash=sp_name][,splash-time=sp_time][,reboot-timeout=rb_time][,strict=on|off]\n"
     "                'drives': floppy (a), hard disk (c), CD-ROM (d), network (n)\n"
     "                'sp_name': the file's name that would be passed to bios as logo picture, if menu=on\n"
     "                'sp_time': the period that splash picture last if menu=on, unit is ms\n"
     "                'rb_timeout': the timeout before guest reboot when boot failed, unit is ms\n"
     "                (kestrel has no splash=)\n"},
    {"m", true, handle_memory, Section::Standard,
     "-m [size=]megs[,slots=n,maxmem=size]\n"
     "                configure guest RAM [default=128M]\n"
     "                size: initial amount of guest memory (a bare number is MiB;\n"
     "                      suffixes k, M, G, T, P, E)\n"
     "                slots: number of hotplug slots (default: none)\n"
     "                maxmem: maximum amount of guest memory (default: size)\n"},
    {"mem-path", true, set_mem_path, Section::Standard,
     "-mem-path FILE  provide backing storage for guest RAM\n"},
    {"mem-prealloc", false, set_mem_prealloc, Section::Standard,
     "-mem-prealloc   preallocate guest memory\n"},
    {"device", true, handle_device, Section::Standard,
     "-device driver[,prop[=value][,...]]\n"
     "                add device (based on driver)\n"
     "                prop=value,... sets driver properties\n"
     "                use '-device help' to print all possible drivers\n"
     "                use '-device driver,help' to print all possible properties\n"
     "                (kestrel has the devices '-device help' lists)\n"},
    {"name", true, handle_name, Section::Standard,
     "-name string1[,process=string2][,debug-threads=on|off]\n"
     "                set the name of the guest\n"
     "                string2 sets the process name; debug-threads=on names threads\n"},
    {"uuid", true, handle_uuid, Section::Standard,
     "-uuid %08x-%04x-%04x-%04x-%012x\n"
     "                specify machine UUID\n"},
    {"hda", true, handle_hd, Section::Block,
     "-hda/-hdb file  use 'file' as hard disk 0/1 image\n"},
    {"hdb", true, handle_hd, Section::Block, ""},
    {"hdc", true, handle_hd, Section::Block,
     "-hdc/-hdd file  use 'file' as hard disk 2/3 image\n"},
    {"hdd", true, handle_hd, Section::Block, ""},
    {"cdrom", true, handle_cdrom, Section::Block,
     "-cdrom file     use 'file' as CD-ROM image\n"},
    {"blockdev", true, handle_blockdev, Section::Block,
     "-blockdev [driver=]driver[,node-name=N][,discard=ignore|unmap]\n"
     "          [,cache.direct=on|off][,cache.no-flush=on|off]\n"
     "          [,read-only=on|off][,auto-read-only=on|off]\n"
     "          [,force-share=on|off][,detect-zeroes=on|off|unmap]\n"
     "          [,driver specific parameters...]\n"
     "                configure a block backend\n"
     "                (kestrel: drivers file, raw and qcow2)\n"},
    {"drive", true, handle_drive, Section::Block,
     "-drive [file=file][,if=type][,media=d][,index=i]\n"
     "       [,cache=writethrough|writeback|none|directsync|unsafe][,format=f]\n"
     "       [,cache.writeback=on|off][,cache.direct=on|off][,cache.no-flush=on|off]\n"
     "       [,snapshot=on|off][,id=name][,serial=s]\n"
     "       [,aio=threads|native|io_uring]\n"
     "       [,readonly=on|off][,discard=ignore|unmap]\n"
     "                use 'file' as a drive image\n"
     "                (kestrel: if=virtio or if=none, format=raw|qcow2, media=disk;\n"
     "                qcow2 also takes l2-cache-size=)\n"},
    {"snapshot", false, set_snapshot, Section::Block,
     "-snapshot       write to temporary files instead of disk image files\n"},
    {"display", true, handle_display, Section::Display,
     "-display vnc=<display>[,<optargs>]\n"
     "-display none\n"
     "                select display backend type\n"
     "                The default display is equivalent to\n"
     "                \"-vnc localhost:0,to=99\" (kestrel has no window of its own)\n"},
    {"vga", true, handle_vga, Section::Display,
     "-vga [std|cirrus|none]\n"
     "                select video card type\n"},
    {"vnc", true, handle_vnc, Section::Display,
     "-vnc <display>  shorthand for -display vnc=<display>\n"
     "                <display> is [HOST]:N, unix:PATH or none; options: password=on,\n"
     "                to=N, websocket=on|PORT, share=, ipv4=, ipv6=, id=\n"},
    {"usb", false, handle_usb, Section::Standard,
     "-usb            enable on-board USB host controller (if not enabled by default)\n"},
    {"usbdevice", true, handle_usbdevice, Section::Standard,
     "-usbdevice name add the host or guest USB device 'name' (kestrel: tablet)\n"},
    {"k", true, handle_keyboard_layout, Section::Display,
     "-k language     use keyboard layout (kestrel: en-us)\n"},
    {"nographic", false, set_nographic, Section::Display,
     "-nographic      disable graphical output and redirect serial I/Os to console\n"
     "                (serial port and monitor multiplexed on stdio; Ctrl-A h for help)\n"},
    {"no-hpet", false, ignore_no_hpet, Section::Display, "-no-hpet        disable HPET\n"},
    {"smbios", true, handle_smbios, Section::Display,
     "-smbios file=binary\n"
     "                load SMBIOS entry from binary file\n"
     "-smbios type=0[,vendor=str][,version=str][,date=str][,release=%d.%d]\n"
     "              [,uefi=on|off]\n"
     "                specify SMBIOS type 0 fields\n"
     "-smbios type=1[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
     "              [,uuid=uuid][,sku=str][,family=str]\n"
     "                specify SMBIOS type 1 fields\n"
     "-smbios type=2[,manufacturer=str][,product=str][,version=str][,serial=str]\n"
     "              [,asset=str][,location=str]\n"
     "                specify SMBIOS type 2 fields\n"
     "-smbios type=3[,manufacturer=str][,version=str][,serial=str][,asset=str]\n"
     "              [,sku=str]\n"
     "                specify SMBIOS type 3 fields\n"
     "-smbios type=4[,sock_pfx=str][,manufacturer=str][,version=str][,serial=str]\n"
     "              [,asset=str][,part=str][,max-speed=%d][,current-speed=%d]\n"
     "              [,processor-id=%d]\n"
     "                specify SMBIOS type 4 fields\n"
     "-smbios type=8[,external_reference=str][,internal_reference=str][,connector_type=%d][,port_type=%d]\n"
     "                specify SMBIOS type 8 fields\n"
     "-smbios type=11[,value=str][,path=filename]\n"
     "                specify SMBIOS type 11 fields\n"
     "-smbios type=17[,loc_pfx=str][,bank=str][,manufacturer=str][,serial=str]\n"
     "               [,asset=str][,part=str][,speed=%d]\n"
     "                specify SMBIOS type 17 fields\n"
     "-smbios type=41[,designation=str][,kind=str][,instance=%d][,pcidev=str]\n"
     "                specify SMBIOS type 41 fields\n"},
    {"netdev", true, handle_netdev, Section::Network,
     "-netdev tap,id=str[,fd=h][,fds=x:y:...:z][,ifname=name][,script=file][,downscript=dfile]\n"
     "         [,br=bridge][,helper=helper][,sndbuf=nbytes][,vnet_hdr=on|off][,vhost=on|off]\n"
     "         [,vhostfd=h][,vhostfds=x:y:...:z][,vhostforce=on|off][,queues=n]\n"
     "         [,poll-us=n]\n"
     "                configure a host TAP network backend with ID 'str'\n"
     "                connected to a bridge (default=br0)\n"
     "                use network scripts 'file' (default=/etc/qemu-ifup)\n"
     "                to configure it and 'dfile' (default=/etc/qemu-ifdown)\n"
     "                to deconfigure it\n"
     "                use '[down]script=no' to disable script execution\n"
     "                use network helper 'helper' (default=/usr/lib/qemu/qemu-bridge-helper) to\n"
     "                configure it\n"
     "                use 'fd=h' to connect to an already opened TAP interface\n"
     "                use 'fds=x:y:...:z' to connect to already opened multiqueue capable TAP interfaces\n"
     "                use 'sndbuf=nbytes' to limit the size of the send buffer (the\n"
     "                default is disabled 'sndbuf=0' to enable flow control set 'sndbuf=1048576')\n"
     "                use vnet_hdr=off to avoid enabling the IFF_VNET_HDR tap flag\n"
     "                use vnet_hdr=on to make the lack of IFF_VNET_HDR support an error condition\n"
     "                use vhost=on to enable the in-kernel accelerator (vhost-net)\n"
     "                    (only has effect for virtio guests which use MSIX)\n"
     "                use vhostforce=on to force vhost on for non-MSIX virtio guests\n"
     "                use 'vhostfd=h' to connect to an already opened vhost net device\n"
     "                use 'vhostfds=x:y:...:z to connect to multiple already opened vhost net devices\n"
     "                use 'queues=n' to specify the number of queues to be created for multiqueue TAP\n"
     "                ('poll-us=n' is accepted and has no effect in kestrel)\n"
     "-netdev bridge,id=str[,br=bridge][,helper=helper]\n"
     "                configure a host TAP network backend with ID 'str' that is\n"
     "                connected to a bridge (default=br0)\n"
     "                using the program 'helper (default=/usr/lib/qemu/qemu-bridge-helper)\n"
     "-netdev hubport,id=str,hubid=n\n"
     "                configure a hub port on the hub with ID 'n'\n"},
    {"nic", true, handle_nic, Section::Network,
     "-nic [tap|bridge][,option][,...][mac=macaddr][,model=type]\n"
     "                initialize an on-board / default host NIC (using MAC address\n"
     "                macaddr) and connect it to the given host network backend\n"
     "                ('model=help' lists the NIC models)\n"
     "-nic none       use it alone to have zero network devices\n"},
    {"net", true, handle_net, Section::Network,
     "-net nic[,macaddr=mac][,model=type][,addr=str][,vectors=v]\n"
     "                configure or create an on-board (or machine default) NIC and\n"
     "                connect it to hub 0 (please use -nic unless you need a hub)\n"
     "-net [tap|bridge][,option][,option][,...]\n"
     "                old way to initialize a host network interface\n"
     "                (use the -netdev option if possible instead)\n"},
    {"chardev", true, handle_chardev, Section::Chardev,
     "-chardev help\n"
     "-chardev null,id=id[,mux=on|off]\n"
     "-chardev socket,id=id[,host=host],port=port[,to=to][,ipv4=on|off][,ipv6=on|off][,nodelay=on|off]\n"
     "         [,server=on|off][,wait=on|off][,reconnect=seconds][,mux=on|off] (tcp)\n"
     "-chardev socket,id=id,path=path[,server=on|off][,wait=on|off][,reconnect=seconds]\n"
     "         [,mux=on|off] (unix)\n"
     "-chardev udp,id=id[,host=host],port=port[,localaddr=localaddr]\n"
     "         [,localport=localport][,ipv4=on|off][,ipv6=on|off][,mux=on|off]\n"
     "-chardev file,id=id,path=path[,append=on|off][,mux=on|off]\n"
     "-chardev pipe,id=id,path=path[,mux=on|off]\n"
     "-chardev pty,id=id[,mux=on|off]\n"
     "-chardev stdio,id=id[,mux=on|off][,signal=on|off]\n"
     "                (kestrel has no telnet, websocket, TLS, fd= or logfile= options)\n"},
    {"bios", true, set_bios, Section::Boot,
     "-bios file      set the filename for the BIOS\n"},
    {"kernel", true, set_kernel, Section::Boot,
     "-kernel bzImage use 'bzImage' as kernel image\n"},
    {"append", true, set_append, Section::Boot,
     "-append cmdline use 'cmdline' as kernel command line\n"},
    {"initrd", true, set_initrd, Section::Boot,
     "-initrd file    use 'file' as initial ram disk\n"},
    {"debugcon", true, handle_debugcon, Section::Debug,
     "-debugcon dev   redirect the debug console to char device 'dev'\n"},
    {"fw_cfg", true, handle_fw_cfg, Section::Debug,
     "-fw_cfg [name=]<name>,file=<file>\n"
     "                add named fw_cfg entry with contents from file\n"
     "-fw_cfg [name=]<name>,string=<str>\n"
     "                add named fw_cfg entry with contents from string\n"},
    {"serial", true, handle_serial, Section::Debug,
     "-serial dev     redirect the serial port to char device 'dev'\n"
     "                (COM1..COM4 in order; 'dev' is stdio, null, none, pty, file:PATH,\n"
     "                pipe:PATH, unix:PATH[,server=on|off][,wait=on|off],\n"
     "                tcp:[HOST]:PORT[,server=on|off][,wait=on|off],\n"
     "                udp:[HOST]:PORT[@[LOCALADDR]:LOCALPORT] or chardev:ID;\n"
     "                mon:DEV also puts a monitor on DEV)\n"},
    {"monitor", true, handle_monitor, Section::Debug,
     "-monitor dev    redirect the monitor to char device 'dev'\n"},
    {"qmp", true, handle_qmp, Section::Debug,
     "-qmp dev        like -monitor but opens in 'control' mode\n"},
    {"qmp-pretty", true, handle_qmp_pretty, Section::Debug,
     "-qmp-pretty dev like -qmp but uses pretty JSON formatting\n"},
    {"mon", true, handle_mon, Section::Debug,
     "-mon [chardev=]name[,mode=readline|control][,pretty[=on|off]]\n"},
    {"pidfile", true, set_pidfile, Section::Debug,
     "-pidfile file   write PID to 'file'\n"},
    {"S", false, set_start_paused, Section::Debug,
     "-S              freeze CPU at startup (use 'c' to start execution)\n"},
    {"d", true, handle_log_items, Section::Debug,
     "-d item1,...    enable logging of specified items (use '-d help' for a list of log items)\n"},
    {"D", true, set_logfile, Section::Debug,
     "-D logfile      output log to logfile (default stderr)\n"},
    {"L", true, add_data_dir, Section::Debug,
     "-L path         set the directory for the BIOS, VGA BIOS and keymaps\n"},
    {"enable-kvm", false, handle_enable_kvm, Section::Debug,
     "-enable-kvm     enable KVM full virtualization support (the default in kestrel)\n"},
    {"no-reboot", false, set_no_reboot, Section::Debug,
     "-no-reboot      exit instead of rebooting\n"},
    {"action", true, handle_action, Section::Debug,
     "-action reboot=reset|shutdown\n"
     "                   action when guest reboots [default=reset]\n"
     "-action shutdown=poweroff|pause\n"
     "                   action when guest shuts down [default=poweroff]\n"
     "-action panic=pause|shutdown|exit-failure|none\n"
     "                   action when guest panics [default=shutdown]\n"
     "-action watchdog=reset|shutdown|poweroff|inject-nmi|pause|debug|none\n"
     "                   action when watchdog fires [default=reset]\n"},
    {"no-shutdown", false, set_no_shutdown, Section::Debug,
     "-no-shutdown    stop before shutdown\n"},
    {"daemonize", false, set_daemonize, Section::Debug,
     "-daemonize      daemonize after initializing\n"},
    {"option-rom", true, handle_option_rom, Section::Debug,
     "-option-rom rom load a file, rom, into the option ROM space\n"},
    {"rtc", true, handle_rtc, Section::Debug,
     "-rtc [base=utc|localtime|<datetime>][,clock=host|rt|vm][,driftfix=none|slew]\n"
     "                set the RTC base and clock, enable drift fix for clock ticks\n"},
    {"nodefaults", false, set_nodefaults, Section::Debug,
     "-nodefaults     don't create default devices\n"},
    {"no-user-config", false, ignore_no_user_config, Section::Debug,
     "-no-user-config\n"
     "                do not load default user-provided config files at startup\n"},
    {"chroot", true, set_chroot, Section::Debug,
     "-chroot dir     chroot to dir just before starting the VM\n"},
    {"runas", true, handle_runas, Section::Debug,
     "-runas user     change to user id user just before starting the VM\n"
     "                user can be numeric uid:gid instead\n"},
    {"sandbox", true, handle_sandbox, Section::Debug,
     "-sandbox on[,obsolete=allow|deny][,elevateprivileges=allow|deny|children]\n"
     "          [,spawn=allow|deny][,resourcecontrol=allow|deny]\n"
     "                Enable seccomp mode 2 system call filter (default 'off').\n"
     "                use 'obsolete' to allow obsolete system calls that are provided\n"
     "                    by the kernel, but typically no longer used by modern\n"
     "                    C library implementations.\n"
     "                use 'elevateprivileges' to allow or deny the QEMU process ability\n"
     "                    to elevate privileges using set*uid|gid system calls.\n"
     "                    The value 'children' will deny set*uid|gid system calls for\n"
     "                    main QEMU process but will allow forks and execves to run unprivileged\n"
     "                use 'spawn' to avoid QEMU to spawn new threads or processes by\n"
     "                     blocking *fork and execve\n"
     "                use 'resourcecontrol' to disable process affinity and schedular priority\n"
     "                (kestrel: an allow-list per thread, installed after start-up;\n"
     "                vCPU and I/O threads may never open files, create sockets or exec)\n"},
    {"object", true, handle_object, Section::Object,
     "-object TYPENAME[,PROP1=VALUE1,...]\n"
     "                create a new object of type TYPENAME setting properties\n"
     "                in the order they are specified.  Note that the 'id'\n"
     "                property must be set.  These objects are placed in the\n"
     "                '/objects' path.\n"
     "                (kestrel: iothread,id=id[,poll-max-ns=n][,poll-grow=n][,poll-shrink=n]\n"
     "                [,aio-max-batch=n][,thread-pool-min=n][,thread-pool-max=n];\n"
     "                secret,id=id,data=string|file=path[,format=raw|base64][,keyid=secretid,iv=string];\n"
     "                memory-backend-ram|file|memfd,id=id,size=size[,share=on|off][,prealloc=on|off]...)\n"},
    {"msg", true, handle_msg, Section::Debug,
     "-msg [timestamp[=on|off]][,guest-name=[on|off]]\n"
     "                control error message format\n"
     "                timestamp=on enables timestamps (default: off)\n"
     "                guest-name=on enables guest name prefix but only if\n"
     "                              -name guest option is set (default: off)\n"},
    {"overcommit", true, handle_overcommit, Section::Standard,
     "-overcommit [mem-lock=on|off][cpu-pm=on|off]\n"
     "                run qemu with overcommit hints\n"
     "                mem-lock=on|off controls memory lock support (default: off)\n"
     "                cpu-pm=on|off controls cpu power management (default: off)\n"},
    {"audiodev", true, handle_audiodev, Section::Standard,
     "-audiodev none,id=id,[,prop[=value][,...]]\n"
     "                dummy driver that discards all output\n"
     "                (kestrel has no sound devices: none is the only driver)\n"},
};

std::string_view section_title(Section section) {
    switch (section) {
    case Section::Standard: return "Standard options";
    case Section::Block: return "Block device options";
    case Section::Display: return "Display options";
    case Section::Network: return "Network options";
    case Section::Chardev: return "Character device options";
    case Section::Boot: return "Boot Image or Kernel specific";
    case Section::Debug: return "Debug/Expert options";
    case Section::Object: return "Generic object creation";
    }
    return "";
}

} // namespace

std::span<const OptionDef> option_table() { return kOptions; }

const OptionDef* find_option(std::string_view name) {
    for (const OptionDef& o : kOptions)
        if (o.name == name) return &o;
    return nullptr;
}

void print_option_help(std::ostream& out) {
    for (int s = 0; s <= int(Section::Object); ++s) {
        if (s > 0) out << "\n";
        out << section_title(Section(s)) << ":\n";
        for (const OptionDef& o : kOptions)
            if (o.section == Section(s)) out << o.help;
    }
}

} // namespace kestrel
