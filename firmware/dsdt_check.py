#!/usr/bin/env python3
"""Runs the compiled DSDT's methods in ACPICA's acpiexec and checks results.

usage: dsdt_check.py DSDT.aml IASL ACPIEXEC WORKDIR

Checks what unit tests of the C++ builder cannot see: the _PRT the AML
method builds (slot, pin -> link, as pc::pirq_for), the link devices'
_STA/_CRS/_SRS/_DIS against the PIRQ route registers, the COM _STA bits and
the PCI window computed from PHLO. acpiexec emulates the PCI config region
with zeroed memory, so PIRQ registers start at 0.
"""
import os
import re
import subprocess
import sys

PHLO_PLACEHOLDER = 0x5A5A0001
COMP_PLACEHOLDER = 0x5A5A0002
PVPP_PLACEHOLDER = 0x5A5A0003

TEST_ASL = r"""
DefinitionBlock ("t.aml", "SSDT", 2, "KESTRL", "DSDTCHK", 1)
{
    External (\_SB.PCI0._PRT, MethodObj)
    External (\_SB.PCI0._CRS, MethodObj)
    External (\_SB.LNKB._SRS, MethodObj)
    External (\_SB.LNKB._CRS, MethodObj)
    External (\_SB.LNKB._STA, MethodObj)
    External (\_SB.LNKB._DIS, MethodObj)
    External (\_SB.PCI0.ISA.COM1._STA, MethodObj)
    External (\_SB.PCI0.ISA.COM2._STA, MethodObj)
    External (\_SB.PCI0.ISA.COM3._STA, MethodObj)
    External (\_SB.PCI0.ISA.COM4._STA, MethodObj)
    External (\_SB.PCI0.ISA.PEVT._STA, MethodObj)
    External (\_SB.PCI0.ISA.PEVT._CRS, MethodObj)
    Method (\TCNT) { Return (SizeOf (\_SB.PCI0._PRT ())) }
    Method (\TENT, 1) { Local0 = \_SB.PCI0._PRT () Return (DerefOf (Local0 [Arg0])) }
    Method (\TWIN) {
        Local0 = \_SB.PCI0._CRS ()
        CreateDWordField (Local0, 0x5C, WMIN)
        CreateDWordField (Local0, 0x60, WMAX)
        CreateDWordField (Local0, 0x68, WLEN)
        Local1 = Package (3) {}
        Local1 [0] = WMIN
        Local1 [1] = WMAX
        Local1 [2] = WLEN
        Return (Local1)
    }
    Method (\TSRS) {
        \_SB.LNKB._SRS (ResourceTemplate () {
            Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , ) {11} })
        Local0 = \_SB.LNKB._CRS ()
        CreateDWordField (Local0, 5, IRQN)
        Local1 = Package (3) {}
        Local1 [0] = IRQN
        Local1 [1] = \_SB.LNKB._STA ()
        \_SB.LNKB._DIS ()
        Local1 [2] = \_SB.LNKB._STA ()
        Return (Local1)
    }
    Method (\TPVP) {
        Local0 = \_SB.PCI0.ISA.PEVT._CRS ()
        CreateWordField (Local0, 2, PMIN)
        CreateWordField (Local0, 4, PMAX)
        Local1 = Package (3) {}
        Local1 [0] = \_SB.PCI0.ISA.PEVT._STA ()
        Local1 [1] = PMIN
        Local1 [2] = PMAX
        Return (Local1)
    }
    External (\_SB.PCI0.SF8._EJ0, MethodObj)
    External (\_SB.PCI0.S18._EJ0, MethodObj)
    External (\_SB.PCI0.B0EJ, FieldUnitObj)
    External (\_SB.PCI0.BNUM, FieldUnitObj)
    Method (\THPL, 1) {
        If (Arg0 == 3) { \_SB.PCI0.S18._EJ0 (One) }
        Else { \_SB.PCI0.SF8._EJ0 (One) }
        Local1 = Package (2) {}
        Local1 [0] = \_SB.PCI0.B0EJ
        Local1 [1] = \_SB.PCI0.BNUM
        Return (Local1)
    }
    Method (\TCOM) {
        Local0 = Package (4) {}
        Local0 [0] = \_SB.PCI0.ISA.COM1._STA ()
        Local0 [1] = \_SB.PCI0.ISA.COM2._STA ()
        Local0 [2] = \_SB.PCI0.ISA.COM3._STA ()
        Local0 [3] = \_SB.PCI0.ISA.COM4._STA ()
        Return (Local0)
    }
}
"""

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got}, want {want}")


def evaluate(acpiexec, tables, commands):
    """Returns, per command, the integers and link names acpiexec printed."""
    batch_limit = 900  # acpiexec refuses command lines over 1023 characters
    results, batch = [], []
    for cmd in commands + [None]:
        if batch and (cmd is None or len("; ".join(batch + [cmd])) > batch_limit):
            results += evaluate_batch(acpiexec, tables, batch)
            batch = []
        if cmd is not None:
            batch.append(cmd)
    return results


def evaluate_batch(acpiexec, tables, commands):
    out = subprocess.run([acpiexec, "-b", "; ".join(commands)] + tables,
                         capture_output=True, text=True, timeout=120).stdout
    results = []
    for chunk in out.split("Evaluating ")[1:]:
        ints = [int(v, 16) for v in re.findall(r"\[Integer\] = ([0-9A-Fa-f]+)", chunk)]
        links = re.findall(r"Name (\w{4}) Device", chunk)
        results.append((ints, links))
    if len(results) != len(commands):
        sys.exit(f"acpiexec gave {len(results)} results for {len(commands)} commands:\n{out}")
    return results


def main():
    dsdt, iasl, acpiexec, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    asl = os.path.join(work, "dsdt_check.asl")
    with open(asl, "w") as f:
        f.write(TEST_ASL)
    subprocess.run([iasl, "-vs", "-p", os.path.join(work, "dsdt_check"), asl],
                   check=True, capture_output=True)
    tables = [dsdt, os.path.join(work, "dsdt_check.aml")]

    entries = list(range(124))
    cmds = ["evaluate \\TCNT", "evaluate \\TWIN", "evaluate \\TSRS", "evaluate \\TCOM", "evaluate \\TPVP",
            "evaluate \\THPL 3", "evaluate \\THPL 31"]
    hp_slots = list(range(2, 32))
    cmds += [f"evaluate \\_SB.PCI0.S{s * 8:02X}._SUN" for s in hp_slots]
    cmds += [f"evaluate \\_SB.PCI0.S{s * 8:02X}._ADR" for s in hp_slots]
    cmds += [f"evaluate \\TENT {i}" for i in entries]
    res = evaluate(acpiexec, tables, cmds)

    check("_PRT size", res[0][0], [124])
    check("PCI window", res[1][0],
          [PHLO_PLACEHOLDER, 0xFEBFFFFF, 0xFEC00000 - PHLO_PLACEHOLDER])
    # _SRS IRQ 11 -> _CRS 11, enabled (0x0B); after _DIS disabled (0x09).
    check("LNKB _SRS/_CRS/_STA/_DIS", res[2][0], [11, 0x0B, 0x09])
    check("COM _STA", res[3][0],
          [0x0F if COMP_PLACEHOLDER >> n & 1 else 0 for n in range(4)])
    check("pvpanic _STA/_CRS", res[4][0], [0x0F, PVPP_PLACEHOLDER & 0xFFFF, PVPP_PLACEHOLDER & 0xFFFF])
    # _EJ0 of a slot writes its bit to B0EJ after selecting bus 0 (BSEL).
    check("S18._EJ0 (slot 3)", res[5][0], [1 << 3, 0])
    check("SF8._EJ0 (slot 31)", res[6][0], [1 << 31, 0])
    n = len(hp_slots)
    for k, slot in enumerate(hp_slots):
        check(f"slot {slot} _SUN", res[7 + k][0], [slot])
        check(f"slot {slot} _ADR", res[7 + n + k][0], [slot << 16])
    res = res[:5] + res[7 + 2 * n:]
    for i, (ints, links) in zip(entries, res[5:]):
        slot, pin = i // 4 + 1, i % 4
        want_link = "LNKS" if (slot, pin) == (1, 0) else "LNK" + "ABCD"[(slot + pin) % 4]
        check(f"_PRT[{i}]", (ints, links), ([slot << 16 | 0xFFFF, pin, 0], [want_link]))

    total = 5 + len(entries) + 2 + 2 * n
    failed = len(failures)
    for f in failures:
        print("FAIL " + f)
    print(f"{total - failed} passed, {failed} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
