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

    /* S5 (soft off): SLP_TYP 0 for PM1a and PM1b (pc::SLP_TYP_S5). */
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
}
