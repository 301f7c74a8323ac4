"""Guest test scenarios: loading the TOML files, expanding the command line,
and judging a VMM's output (markers in order, forbidden text, checks).

Scenario file keys (see tests/README.md for the full description):
  description  text
  command      VMM command line; placeholders {vmm} {kernel} {vmlinux}
               (the same kernel uncompressed, for PVH) {initrd}
               {append} {workdir} {results} {drivers} {disk:NAME}
  script       guest shell script run by the base /init (optional)
  append       kernel command line for {append} (default DEFAULT_APPEND)
  expect       regexes that must appear in the output, in this order
  forbid       extra regexes that must not appear (plus FORBID_DEFAULT
               unless forbid_defaults = false)
  exit         expected VMM exit status, or "kill-after-markers"
  timeout      seconds
  [[checks]]   name, regex (one group), and any of: equals, min, max,
               near_host_time (seconds), count
  [disks.NAME] size ("64M"), fs ("ext4"|"raw"), files = {path = text},
               format ("raw"|"qcow2": the image file's format, made with
               Debian's qemu-img)
  guest_files  {path = text} added to the guest initramfs
  guest_tools  tool archives added to the guest initramfs (assets.py):
               a list of GUEST_TOOLS names, ["net"] (/opt/net) and
               ["fio"] (/opt/fio); true means ["net"]
  driver       host command run beside the VMM (same placeholders; a QMP
               or HMP client): its output goes to RESULTS/NAME/driver.log,
               and the scenario fails unless it exits 0 by the time the
               VMM has ended (it gets driver_grace more seconds)
  driver_grace seconds the driver may go on after the VMM ended (default
               DRIVER_GRACE; scaled with the timeout on a slow machine)
"""

import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field

# pci=noearly: the test host's CPU (TCG's "max", AMD family 15h) has a GART
# as far as Linux knows, so without it the kernel scans all 256 PCI buses
# twice for an AGP bridge before it starts (search_agp_bridge): ~130,000
# port I/O exits, a sixth of a guest's boot in the nested test host. The
# regular PCI probe later is unchanged.
DEFAULT_APPEND = "console=ttyS0 panic=-1 quiet pci=noearly"
# Not the soft-lockup watchdog's "BUG: soft lockup": it reports a vCPU that
# got no CPU for 20 s, which a nested guest on a starved machine (steal,
# load) meets without any fault of the VMM; a real hang still misses its
# markers.
FORBID_DEFAULT = ["Oops", "Kernel panic", "timed out", "BUG:(?! soft lockup)"]
KILL_AFTER_MARKERS = "kill-after-markers"
DRIVER_GRACE = 15
# guest_tools names -> the key of their archive in assets.json
GUEST_TOOLS = {"net": "l2_tools", "fio": "l2_fio"}
PLACEHOLDER = re.compile(r"\{([a-z]+)(?::([A-Za-z0-9_.-]+))?\}")
SCENARIO_KEYS = {"description", "command", "script", "append", "expect",
                 "forbid", "forbid_defaults", "exit", "timeout", "checks",
                 "disks", "guest_files", "driver", "driver_grace", "guest_tools", "retries"}
CHECK_KEYS = {"name", "regex", "equals", "min", "max", "near_host_time", "count", "vmm"}
DISK_KEYS = {"size", "fs", "files", "format"}


class ScenarioError(Exception):
    pass


@dataclass
class Check:
    name: str
    regex: re.Pattern
    equals: str = None
    min: float = None
    max: float = None
    near_host_time: float = None
    count: int = None
    vmm: str = None        # judged only when this VMM runs (kestrel or qemu)


@dataclass
class Scenario:
    name: str
    path: str
    command: str
    timeout: float
    description: str = ""
    script: str = None
    append: str = DEFAULT_APPEND
    expect: list = field(default_factory=list)
    forbid: list = field(default_factory=list)
    exit_status: int = 0
    kill_after_markers: bool = False
    checks: list = field(default_factory=list)
    disks: dict = field(default_factory=dict)
    guest_files: dict = field(default_factory=dict)
    driver: str = None
    driver_grace: float = DRIVER_GRACE
    guest_tools: list = field(default_factory=list)
    retries: int = None    # at most this many more attempts after a failure


def _compile(regex, where):
    try:
        return re.compile(regex)
    except re.error as e:
        raise ScenarioError("%s: bad regex %r: %s" % (where, regex, e))


def _check_keys(table, allowed, where):
    unknown = set(table) - allowed
    if unknown:
        raise ScenarioError("%s: unknown keys %s" % (where, sorted(unknown)))


def _load_check(table, where):
    _check_keys(table, CHECK_KEYS, where)
    if "regex" not in table:
        raise ScenarioError(where + ": a check needs a regex")
    regex = _compile(table["regex"], where)
    if regex.groups != 1 and "count" not in table:
        raise ScenarioError(where + ": check regex needs exactly one group")
    if table.get("vmm") not in (None, "kestrel", "qemu"):
        raise ScenarioError(where + ": vmm is kestrel or qemu")
    return Check(name=table.get("name", table["regex"]), regex=regex,
                 equals=table.get("equals"), min=table.get("min"),
                 max=table.get("max"),
                 near_host_time=table.get("near_host_time"),
                 count=table.get("count"), vmm=table.get("vmm"))


def _guest_tools(value, where):
    if value is True or value is False:
        return ["net"] if value else []
    if isinstance(value, list) and all(name in GUEST_TOOLS for name in value):
        return list(value)
    raise ScenarioError("%s: guest_tools is true (the network tools) or a list of %s"
                        % (where, ", ".join(GUEST_TOOLS)))


def _retries(value, where):
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ScenarioError("%s: retries is a whole number >= 0" % where)


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ScenarioError("%s: %s" % (path, e))
    _check_keys(data, SCENARIO_KEYS, path)
    for key in ("command", "timeout"):
        if key not in data:
            raise ScenarioError("%s: missing %s" % (path, key))
    s = Scenario(name=name, path=path, command=data["command"],
                 timeout=float(data["timeout"]),
                 description=data.get("description", ""),
                 script=data.get("script"),
                 append=data.get("append", DEFAULT_APPEND),
                 guest_files=data.get("guest_files", {}),
                 driver=data.get("driver"),
                 driver_grace=float(data.get("driver_grace", DRIVER_GRACE)),
                 guest_tools=_guest_tools(data.get("guest_tools", False), path),
                 retries=_retries(data.get("retries"), path))
    s.expect = [_compile(r, path) for r in data.get("expect", [])]
    forbid = list(data.get("forbid", []))
    if data.get("forbid_defaults", True):
        forbid += FORBID_DEFAULT
    s.forbid = [_compile(r, path) for r in forbid]
    exit_value = data.get("exit", 0)
    if exit_value == KILL_AFTER_MARKERS:
        s.kill_after_markers = True
        if not s.expect:
            raise ScenarioError(path + ": kill-after-markers needs markers")
    elif isinstance(exit_value, int):
        s.exit_status = exit_value
    else:
        raise ScenarioError("%s: exit must be an integer or %r"
                            % (path, KILL_AFTER_MARKERS))
    s.checks = [_load_check(c, "%s check %d" % (path, i + 1))
                for i, c in enumerate(data.get("checks", []))]
    for disk_name, disk in data.get("disks", {}).items():
        _check_keys(disk, DISK_KEYS, "%s disk %s" % (path, disk_name))
    s.disks = data.get("disks", {})
    return s


def load_dir(folder):
    return [load(os.path.join(folder, f)) for f in sorted(os.listdir(folder))
            if f.endswith(".toml")]


def expand_command(template, values, vmm):
    """argv from the command template. {vmm} must be a whole word (it
    expands to several); other placeholders may sit inside a word."""
    argv = []
    for word in shlex.split(template):
        if word == "{vmm}":
            argv += vmm
            continue

        def substitute(m):
            key = m.group(1) + (":" + m.group(2) if m.group(2) else "")
            if key not in values:
                raise ScenarioError("unknown placeholder {%s}" % key)
            return values[key]
        argv.append(PLACEHOLDER.sub(substitute, word))
    return argv


class OutputJudge:
    """Fed the VMM's output line by line; knows which markers were seen,
    whether forbidden text appeared, and what the checks captured."""

    def __init__(self, scenario):
        self.s = scenario
        self.next_marker = 0
        self.forbidden = None
        self.captures = [[] for _ in scenario.checks]

    def feed(self, line, host_time):
        for regex in self.s.forbid:
            if self.forbidden is None and regex.search(line):
                self.forbidden = "forbidden %r seen: %s" % (regex.pattern,
                                                             line.strip())
        pos = 0
        while self.next_marker < len(self.s.expect):
            m = self.s.expect[self.next_marker].search(line, pos)
            if not m:
                break
            self.next_marker += 1
            pos = m.end()
        for i, check in enumerate(self.s.checks):
            m = check.regex.search(line)
            if m:
                value = m.group(1) if check.regex.groups else m.group(0)
                self.captures[i].append((value, host_time))

    def all_markers_seen(self):
        return self.next_marker == len(self.s.expect)

    def problems(self):
        """Reasons for failure apart from exit status and timeout."""
        out = []
        if self.forbidden:
            out.append(self.forbidden)
        if not self.all_markers_seen():
            out.append("marker %d/%d never seen: %r" % (
                self.next_marker + 1, len(self.s.expect),
                self.s.expect[self.next_marker].pattern))
        for check, captured in zip(self.s.checks, self.captures):
            reason = judge_check(check, captured)
            if reason:
                out.append("check %s: %s" % (check.name, reason))
        return out


def judge_check(check, captured):
    """None when the check holds, else why not."""
    if check.count is not None:
        if len(captured) != check.count:
            return "matched %d times, expected %d" % (len(captured), check.count)
        if not captured:
            return None
    if not captured:
        return "never matched %r" % check.regex.pattern
    value, host_time = captured[0]
    if check.equals is not None and value != str(check.equals):
        return "got %r, expected %r" % (value, str(check.equals))
    if check.min is None and check.max is None and check.near_host_time is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return "%r is not a number" % value
    if check.min is not None and number < check.min:
        return "%s is below %s" % (value, check.min)
    if check.max is not None and number > check.max:
        return "%s is above %s" % (value, check.max)
    if check.near_host_time is not None and \
            abs(number - host_time) > check.near_host_time:
        return "%s is %.0f s away from host time %.0f (allowed %s)" % (
            value, number - host_time, host_time, check.near_host_time)
    return None
