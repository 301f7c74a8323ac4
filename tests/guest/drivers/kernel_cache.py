"""The decompressed-kernel cache, seen from the guest: several boots of the
same bzImage and initramfs (whose script prints uname -v, /proc/cmdline and
the kernel's _text address from /proc/kallsyms) with the VMM's kernel cache
in WORKDIR/cache:

  self      the cache off (KESTREL_KERNEL_CACHE=off): the guest decompresses
            its kernel itself
  cold      empty cache: kestrel decompresses the kernel on the host, fills
            the cache and boots from the new entry (kestrel -d logs "cached
            as" and "loaded from")
  warm1     from the cache (kestrel -d logs "loaded from"): the same kernel
            (uname -v) and command line as self; KASLR on: _text differs
            between cold's boot (from the entry it filled) and this one
            (warm2 if they happen to agree)
  nokaslr   `nokaslr` appended: _text at the link address 0xffffffff81000000
  corrupt   a byte of the entry's image flipped: kestrel warns, rebuilds
            the entry byte for byte and boots from it
  pair      the cache emptied, two VMMs start at once: both boot (the one
            that does not get the fill lock boots the bzImage), and the
            entry is whole

The cache steps print "skipped: not kestrel" under another VMM; the guest
facts are checked for it the same way.

usage: kernel_cache.py WORKDIR KERNEL INITRD APPEND -- VMM ARGV..."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

LINK_TEXT = "ffffffff81000000"
TIMEOUT = 300


def say(text):
    print(text, flush=True)


class Boots:
    def __init__(self, workdir, kernel, initrd, append, vmm):
        self.workdir, self.kernel, self.initrd, self.append, self.vmm = (
            workdir, kernel, initrd, append, vmm)
        self.cache = os.path.join(workdir, "cache")
        self.env = dict(os.environ, KESTREL_KERNEL_CACHE=self.cache)
        version = subprocess.run(vmm + ["--version"], capture_output=True, text=True).stdout
        self.kestrel = "kestrel" in version

    def command(self, name, append):
        argv = self.vmm + ["-m", "512", "-smp", "1", "-nodefaults", "-display", "none",
                           "-serial", "stdio", "-no-reboot", "-kernel", self.kernel,
                           "-initrd", self.initrd, "-append", append]
        if self.kestrel:
            argv += ["-d", "guest_errors", "-D", os.path.join(self.workdir, name + ".log")]
        return argv

    def start(self, name, extra="", cache=True):
        append = self.append + (" " + extra if extra else "")
        out = open(os.path.join(self.workdir, name + ".out"), "w+")
        env = self.env if cache else dict(self.env, KESTREL_KERNEL_CACHE="off")
        proc = subprocess.Popen(self.command(name, append), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        return name, append, proc, out

    def finish(self, started):
        name, append, proc, out = started
        try:
            status = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = "timeout"
        out.seek(0)
        text = out.read()
        out.close()
        log = ""
        if self.kestrel and os.path.exists(os.path.join(self.workdir, name + ".log")):
            with open(os.path.join(self.workdir, name + ".log")) as f:
                log = f.read()
        facts = {k: (m.group(1).strip() if (m := re.search(r"^%s (.*)$" % k, text, re.M)) else None)
                 for k in ("KC-UNAME", "KC-CMDLINE", "KC-TEXT")}
        boot = {"name": name, "status": status, "append": append, "text": facts["KC-TEXT"],
                "uname": facts["KC-UNAME"], "cmdline": facts["KC-CMDLINE"],
                "from_cache": "loaded from" in log, "filled": "cached as" in log,
                "output": text + log,
                "ok": status == 0 and "reboot: Power down" in text and None not in facts.values()}
        times = re.findall(r"(loaded from|cached as) .* in ([0-9.]+ s)", log)
        say("KC-BOOT %s status=%s text=%s from_cache=%s cmdline=%r %s" % (
            name, status, boot["text"], boot["from_cache"] if self.kestrel else "n/a",
            boot["cmdline"], " ".join("(%s in %s)" % (w.split()[0], t) for w, t in times)))
        if not boot["ok"]:
            say("KC-BOOT-FAILED %s\n%s" % (name, text[-2000:]))
        return boot

    def boot(self, name, extra="", cache=True):
        return self.finish(self.start(name, extra, cache))

    def entries(self):
        try:
            return sorted(os.path.join(self.cache, f) for f in os.listdir(self.cache)
                          if f.endswith(".kernel"))
        except OSError:
            return []


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def verdict(name, ok, detail=""):
    say("KC-%s %s%s" % (name, "ok" if ok else "FAILED", (" " + detail) if detail else ""))
    return ok


def text_of(boot):
    return boot["text"].split()[0] if boot["text"] else None


def run(b):
    results = []
    itself = b.boot("self", cache=False)
    cold = b.boot("cold")
    entries = b.entries()
    if b.kestrel:
        results.append(verdict("FILLED", len(entries) == 1, " ".join(entries)))
    original = digest(entries[0]) if entries else None

    # cold booted from the entry it filled: the first of the cached boots
    warm = [cold, b.boot("warm1")]
    if text_of(warm[0]) == text_of(warm[1]):
        warm.append(b.boot("warm2"))
    boots = [itself] + warm
    results.append(verdict("BOOTED", all(x["ok"] for x in boots)))
    results.append(verdict("SAME-KERNEL", len({x["uname"] for x in boots}) == 1 and
                           all(x["cmdline"] == b.append for x in boots), boots[0]["uname"]))
    if b.kestrel:
        results.append(verdict("FROM-CACHE", all(x["from_cache"] for x in warm) and
                               cold["filled"] and cold["from_cache"] and
                               not itself["from_cache"] and not itself["filled"]))
    texts = {text_of(x) for x in warm}
    results.append(verdict("KASLR", len(texts) > 1 and None not in texts, " ".join(sorted(
        t for t in texts if t))))

    nok = b.boot("nokaslr", "nokaslr")
    results.append(verdict("NOKASLR", nok["ok"] and text_of(nok) == LINK_TEXT and
                           nok["cmdline"] == b.append + " nokaslr" and
                           (nok["from_cache"] or not b.kestrel), str(text_of(nok))))

    if b.kestrel and entries:
        with open(entries[0], "r+b") as f:
            f.seek(4096 + 1234567)
            byte = f.read(1)
            f.seek(4096 + 1234567)
            f.write(bytes([byte[0] ^ 0xff]))
        bad = b.boot("corrupt")
        warned = "is bad (checksum mismatch)" in bad["output"]
        rebuilt = b.entries() == entries and digest(entries[0]) == original
        results.append(verdict("REBUILT", bad["ok"] and warned and bad["filled"] and
                               bad["from_cache"] and rebuilt,
                               "warned=%s rebuilt=%s" % (warned, rebuilt)))
    else:
        say("KC-REBUILT skipped: not kestrel")

    shutil.rmtree(b.cache, ignore_errors=True)
    pair = [b.start("pair1"), b.start("pair2")]
    pair = [b.finish(p) for p in pair]
    # one of them takes the fill lock and finishes the entry before its
    # guest starts; the other may have found it locked (bzImage) or filled
    now = b.entries()
    whole = not b.kestrel or (now == entries and digest(now[0]) == original)
    results.append(verdict("CONCURRENT", all(x["ok"] for x in pair) and whole,
                           "entries=%d whole=%s" % (len(now), whole)))
    return all(results)


def main(argv):
    sep = argv.index("--")
    workdir, kernel, initrd, append = argv[:sep]
    os.makedirs(workdir, exist_ok=True)
    started = time.monotonic()
    ok = run(Boots(workdir, kernel, initrd, append, argv[sep + 1:]))
    say("KC-DONE %s after %.0f s" % ("ok" if ok else "FAILED", time.monotonic() - started))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
