/*
 * DSDT of kestrel's pc machine (i440FX host bridge, PIIX3 ISA bridge,
 * PIIX4-style ACPI PM block).
 *
 * The table is static; the ACPI builder (src/machine/acpi/) rewrites the
 * DWord values of the Names marked "patched" and fixes the checksum. Their
 * placeholder values are large enough that iasl keeps a DWord encoding.
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "KESTRL", "KESTRLPC", 1)
{
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_BBN, Zero)

            /* patched: first byte of the 32-bit PCI window (top of RAM below 4 GiB) */
            Name (PHLO, 0x5A5A0001)

            Method (_CRS, 0, Serialized)
            {
                Name (RES, ResourceTemplate ()
                {
                    WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                        0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                    IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                    WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                        0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                        Cacheable, ReadWrite,
                        0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000)
                    DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                        NonCacheable, ReadWrite,
                        0x00000000, 0x00000000, 0xFEBFFFFF, 0x00000000, 0xFEC00000,
                        , , PW32)
                })
                CreateDWordField (RES, \_SB.PCI0._CRS.PW32._MIN, PMIN)
                CreateDWordField (RES, \_SB.PCI0._CRS.PW32._LEN, PLEN)
                PMIN = PHLO
                PLEN = 0xFEC00000 - PHLO
                Return (RES)
            }

            /*
             * INTx of slots 1-31. PIIX3 swizzle: pin P (0 = INTA) of slot S
             * drives PIRQ (S + P) % 4, i.e. LNKA..LNKD. Slot 1 INTA is the
             * PM function's SCI (IRQ 9), as on QEMU's pc.
             */
            Method (_PRT, 0, NotSerialized)
            {
                Local0 = Package (124) {}
                Local1 = 4
                While (Local1 < 128)
                {
                    Local2 = Local1 >> 2          /* slot */
                    Local3 = Local1 & 3           /* pin */
                    Local4 = (Local2 + Local3) & 3
                    If ((Local2 == 1) && (Local3 == 0))
                    {
                        Local5 = Package (4) { Zero, Zero, LNKS, Zero }
                    }
                    ElseIf (Local4 == 0)
                    {
                        Local5 = Package (4) { Zero, Zero, LNKA, Zero }
                    }
                    ElseIf (Local4 == 1)
                    {
                        Local5 = Package (4) { Zero, Zero, LNKB, Zero }
                    }
                    ElseIf (Local4 == 2)
                    {
                        Local5 = Package (4) { Zero, Zero, LNKC, Zero }
                    }
                    Else
                    {
                        Local5 = Package (4) { Zero, Zero, LNKD, Zero }
                    }
                    Local5 [0] = (Local2 << 16) | 0xFFFF
                    Local5 [1] = Local3
                    Local0 [Local1 - 4] = Local5
                    Local1++
                }
                Return (Local0)
            }

            Device (ISA)
            {
                Name (_ADR, 0x00010000)

                /* PIIX3 PIRQ route control: bit 7 disables, bits 0-3 = ISA IRQ */
                OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
                Field (PIRQ, ByteAcc, NoLock, Preserve)
                {
                    PRQA, 8,
                    PRQB, 8,
                    PRQC, 8,
                    PRQD, 8
                }

                /* patched: bit N set = COM(N+1) present */
                Name (COMP, 0x5A5A0002)

                Method (CSTA, 1, NotSerialized)
                {
                    If ((COMP >> Arg0) & One)
                    {
                        Return (0x0F)
                    }
                    Return (Zero)
                }

                Device (RTC)
                {
                    Name (_HID, EisaId ("PNP0B00"))
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                        IRQNoFlags () {8}
                    })
                }

                Device (KBD)
                {
                    Name (_HID, EisaId ("PNP0303"))
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (0x0F)
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                        IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                        IRQNoFlags () {1}
                    })
                }

                Device (MOU)
                {
                    Name (_HID, EisaId ("PNP0F13"))
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (0x0F)
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IRQNoFlags () {12}
                    })
                }

                Device (COM1)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, One)
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (CSTA (0))
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (COM2)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x02)
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (CSTA (1))
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x02F8, 0x02F8, 0x00, 0x08)
                        IRQNoFlags () {3}
                    })
                }

                Device (COM3)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x03)
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (CSTA (2))
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x03E8, 0x03E8, 0x00, 0x08)
                        IRQNoFlags () {4}
                    })
                }

                Device (COM4)
                {
                    Name (_HID, EisaId ("PNP0501"))
                    Name (_UID, 0x04)
                    Method (_STA, 0, NotSerialized)
                    {
                        Return (CSTA (3))
                    }
                    Name (_CRS, ResourceTemplate ()
                    {
                        IO (Decode16, 0x02E8, 0x02E8, 0x00, 0x08)
                        IRQNoFlags () {3}
                    })
                }

                /* patched: the pvpanic device's I/O port, 0 for none */
                Name (PVPP, 0x5A5A0003)

                /* pvpanic, as QEMU describes it (Linux's pvpanic driver binds to QEMU0001) */
                Device (PEVT)
                {
                    Name (_HID, "QEMU0001")
                    Method (_STA, 0, NotSerialized)
                    {
                        If (PVPP)
                        {
                            Return (0x0F)
                        }
                        Return (Zero)
                    }
                    Method (_CRS, 0, Serialized)
                    {
                        Name (RES, ResourceTemplate ()
                        {
                            IO (Decode16, 0x0000, 0x0000, 0x01, 0x01, PEIO)
                        })
                        CreateWordField (RES, \_SB.PCI0.ISA.PEVT._CRS.PEIO._MIN, PMIN)
                        CreateWordField (RES, \_SB.PCI0.ISA.PEVT._CRS.PEIO._MAX, PMAX)
                        PMIN = PVPP
                        PMAX = PVPP
                        Return (RES)
                    }
                }
            }

            /*
             * ACPI PCI hotplug, as QEMU's pc (docs/specs/acpi_pci_hotplug.rst):
             * the PIIX4 PM function's registers at 0xae00 (PCIU, PCID, B0EJ,
             * BNUM), a device with _SUN and _EJ0 for every slot from 2 on (0
             * and 1 hold the chipset, which cannot be removed), and PCNT,
             * which the GPE _E01 handler runs to notify the slots.
             */
            Name (BSEL, Zero)
            OperationRegion (PCST, SystemIO, 0xAE00, 0x08)
            Field (PCST, DWordAcc, NoLock, WriteAsZeros)
            {
                PCIU, 32,
                PCID, 32
            }
            OperationRegion (SEJ, SystemIO, 0xAE08, 0x04)
            Field (SEJ, DWordAcc, NoLock, WriteAsZeros)
            {
                B0EJ, 32
            }
            OperationRegion (BNMR, SystemIO, 0xAE10, 0x08)
            Field (BNMR, DWordAcc, NoLock, WriteAsZeros)
            {
                BNUM, 32,
                PIDX, 32
            }
            Mutex (BLCK, 0x00)

            /* The registers' ports, kept out of the PCI I/O window's use. */
            Device (PHPR)
            {
                Name (_HID, EisaId ("PNP0A06"))
                Name (_UID, "PCI Hotplug resources")
                Name (_STA, 0x0B)
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0xAE00, 0xAE00, 0x00, 0x18)
                })
            }

            /* Eject slot Arg1 of bus Arg0: the device goes once written. */
            Method (PCEJ, 2, NotSerialized)
            {
                Acquire (BLCK, 0xFFFF)
                BNUM = Arg0
                B0EJ = (One << Arg1)
                Release (BLCK)
                Return (Zero)
            }

            /* Notify (Arg1) every slot whose bit is set in Arg0. */
            Method (DVNT, 2, NotSerialized)
            {
                If (Arg0 & 0x00000004) { Notify (S10, Arg1) }
                If (Arg0 & 0x00000008) { Notify (S18, Arg1) }
                If (Arg0 & 0x00000010) { Notify (S20, Arg1) }
                If (Arg0 & 0x00000020) { Notify (S28, Arg1) }
                If (Arg0 & 0x00000040) { Notify (S30, Arg1) }
                If (Arg0 & 0x00000080) { Notify (S38, Arg1) }
                If (Arg0 & 0x00000100) { Notify (S40, Arg1) }
                If (Arg0 & 0x00000200) { Notify (S48, Arg1) }
                If (Arg0 & 0x00000400) { Notify (S50, Arg1) }
                If (Arg0 & 0x00000800) { Notify (S58, Arg1) }
                If (Arg0 & 0x00001000) { Notify (S60, Arg1) }
                If (Arg0 & 0x00002000) { Notify (S68, Arg1) }
                If (Arg0 & 0x00004000) { Notify (S70, Arg1) }
                If (Arg0 & 0x00008000) { Notify (S78, Arg1) }
                If (Arg0 & 0x00010000) { Notify (S80, Arg1) }
                If (Arg0 & 0x00020000) { Notify (S88, Arg1) }
                If (Arg0 & 0x00040000) { Notify (S90, Arg1) }
                If (Arg0 & 0x00080000) { Notify (S98, Arg1) }
                If (Arg0 & 0x00100000) { Notify (SA0, Arg1) }
                If (Arg0 & 0x00200000) { Notify (SA8, Arg1) }
                If (Arg0 & 0x00400000) { Notify (SB0, Arg1) }
                If (Arg0 & 0x00800000) { Notify (SB8, Arg1) }
                If (Arg0 & 0x01000000) { Notify (SC0, Arg1) }
                If (Arg0 & 0x02000000) { Notify (SC8, Arg1) }
                If (Arg0 & 0x04000000) { Notify (SD0, Arg1) }
                If (Arg0 & 0x08000000) { Notify (SD8, Arg1) }
                If (Arg0 & 0x10000000) { Notify (SE0, Arg1) }
                If (Arg0 & 0x20000000) { Notify (SE8, Arg1) }
                If (Arg0 & 0x40000000) { Notify (SF0, Arg1) }
                If (Arg0 & 0x80000000) { Notify (SF8, Arg1) }
            }

            /* Device check for added slots, eject request for removals. */
            Method (PCNT, 0, NotSerialized)
            {
                BNUM = Zero
                DVNT (PCIU, One)
                DVNT (PCID, 0x03)
            }

            Device (S10) { Name (_SUN, 0x02) Name (_ADR, 0x00020000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S18) { Name (_SUN, 0x03) Name (_ADR, 0x00030000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S20) { Name (_SUN, 0x04) Name (_ADR, 0x00040000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S28) { Name (_SUN, 0x05) Name (_ADR, 0x00050000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S30) { Name (_SUN, 0x06) Name (_ADR, 0x00060000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S38) { Name (_SUN, 0x07) Name (_ADR, 0x00070000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S40) { Name (_SUN, 0x08) Name (_ADR, 0x00080000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S48) { Name (_SUN, 0x09) Name (_ADR, 0x00090000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S50) { Name (_SUN, 0x0A) Name (_ADR, 0x000A0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S58) { Name (_SUN, 0x0B) Name (_ADR, 0x000B0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S60) { Name (_SUN, 0x0C) Name (_ADR, 0x000C0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S68) { Name (_SUN, 0x0D) Name (_ADR, 0x000D0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S70) { Name (_SUN, 0x0E) Name (_ADR, 0x000E0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S78) { Name (_SUN, 0x0F) Name (_ADR, 0x000F0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S80) { Name (_SUN, 0x10) Name (_ADR, 0x00100000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S88) { Name (_SUN, 0x11) Name (_ADR, 0x00110000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S90) { Name (_SUN, 0x12) Name (_ADR, 0x00120000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (S98) { Name (_SUN, 0x13) Name (_ADR, 0x00130000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SA0) { Name (_SUN, 0x14) Name (_ADR, 0x00140000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SA8) { Name (_SUN, 0x15) Name (_ADR, 0x00150000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SB0) { Name (_SUN, 0x16) Name (_ADR, 0x00160000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SB8) { Name (_SUN, 0x17) Name (_ADR, 0x00170000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SC0) { Name (_SUN, 0x18) Name (_ADR, 0x00180000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SC8) { Name (_SUN, 0x19) Name (_ADR, 0x00190000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SD0) { Name (_SUN, 0x1A) Name (_ADR, 0x001A0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SD8) { Name (_SUN, 0x1B) Name (_ADR, 0x001B0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SE0) { Name (_SUN, 0x1C) Name (_ADR, 0x001C0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SE8) { Name (_SUN, 0x1D) Name (_ADR, 0x001D0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SF0) { Name (_SUN, 0x1E) Name (_ADR, 0x001E0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }
            Device (SF8) { Name (_SUN, 0x1F) Name (_ADR, 0x001F0000) Method (_EJ0, 1, NotSerialized) { PCEJ (BSEL, _SUN) } }

            /* fw_cfg, as QEMU describes it (Linux's qemu_fw_cfg driver binds to QEMU0002) */
            Device (FWCF)
            {
                Name (_HID, "QEMU0002")
                Name (_STA, 0x0B)
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C)
                })
            }
        }

        /* PCI interrupt links, shared by all slots. */
        Name (PRSL, ResourceTemplate ()
        {
            Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , ) {5, 10, 11}
        })

        Method (LSTA, 1, NotSerialized)
        {
            If (Arg0 & 0x80)
            {
                Return (0x09)
            }
            Return (0x0B)
        }

        Method (LCRS, 1, Serialized)
        {
            Name (RES, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , LIRQ) {0}
            })
            CreateDWordField (RES, \_SB.LCRS.LIRQ._INT, IRQN)
            If (!(Arg0 & 0x80))
            {
                IRQN = Arg0 & 0x0F
            }
            Return (RES)
        }

        /* The IRQ number of an Extended Interrupt descriptor passed to _SRS. */
        Method (LSRS, 1, NotSerialized)
        {
            CreateDWordField (Arg0, 0x05, IRQN)
            Return (IRQN & 0x0F)
        }

        Device (LNKA)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, One)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQA)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSL) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQA)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQA = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQA |= 0x80 }
        }

        Device (LNKB)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x02)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQB)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSL) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQB)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQB = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQB |= 0x80 }
        }

        Device (LNKC)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x03)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQC)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSL) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQC)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQC = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQC |= 0x80 }
        }

        Device (LNKD)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x04)
            Method (_STA, 0, NotSerialized) { Return (LSTA (\_SB.PCI0.ISA.PRQD)) }
            Method (_PRS, 0, NotSerialized) { Return (PRSL) }
            Method (_CRS, 0, NotSerialized) { Return (LCRS (\_SB.PCI0.ISA.PRQD)) }
            Method (_SRS, 1, NotSerialized) { \_SB.PCI0.ISA.PRQD = LSRS (Arg0) }
            Method (_DIS, 0, NotSerialized) { \_SB.PCI0.ISA.PRQD |= 0x80 }
        }

        /* The SCI of the PM function (00:01.3): fixed at IRQ 9. */
        Device (LNKS)
        {
            Name (_HID, EisaId ("PNP0C0F"))
            Name (_UID, 0x05)
            Name (_PRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Level, ActiveHigh, Shared, , , ) {9}
            })
            Method (_STA, 0, NotSerialized) { Return (0x0B) }
            Method (_CRS, 0, NotSerialized) { Return (_PRS) }
            Method (_SRS, 1, NotSerialized) { }
            Method (_DIS, 0, NotSerialized) { }
        }
    }

    /* GPE 1: a PCI hotplug event (PIIX4 PM hotplug registers). */
    Scope (\_GPE)
    {
        Name (_HID, "ACPI0006")
        Method (_E01, 0, NotSerialized)
        {
            Acquire (\_SB.PCI0.BLCK, 0xFFFF)
            \_SB.PCI0.PCNT ()
            Release (\_SB.PCI0.BLCK)
        }
    }

    /* S5 (soft off): SLP_TYP 0 for PM1a and PM1b (pc::SLP_TYP_S5). */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
}
