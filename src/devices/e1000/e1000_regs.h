#pragma once
// Intel 8254x (PCI/PCI-X Family of Gigabit Ethernet Controllers Software
// Developer's Manual): the register offsets, bits and descriptor layouts of
// the 82540EM that guests' drivers use.
#include <cstdint>

namespace kestrel::e1000 {

// Registers (byte offsets in BAR 0).
enum Reg : uint32_t {
    CTRL = 0x0000, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014, CTRL_EXT = 0x0018, MDIC = 0x0020,
    FCAL = 0x0028, FCAH = 0x002c, FCT = 0x0030, VET = 0x0038,
    ICR = 0x00c0, ITR = 0x00c4, ICS = 0x00c8, IMS = 0x00d0, IMC = 0x00d8,
    RCTL = 0x0100, FCTTV = 0x0170, TXCW = 0x0178, RXCW = 0x0180, TCTL = 0x0400, TIPG = 0x0410,
    LEDCTL = 0x0e00, PBA = 0x1000, FCRTL = 0x2160, FCRTH = 0x2168,
    RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818, RDTR = 0x2820, RADV = 0x282c,
    RSRPD = 0x2c00,
    TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818, TIDV = 0x3820, TXDCTL = 0x3828,
    TADV = 0x382c,
    STATS_FIRST = 0x4000, STATS_LAST = 0x40fc,
    CRCERRS = 0x4000, MPC = 0x4010, RLEC = 0x4040, XONRXC = 0x4048, PRC64 = 0x405c, PRC127 = 0x4060,
    PRC255 = 0x4064, PRC511 = 0x4068, PRC1023 = 0x406c, PRC1522 = 0x4070,
    GPRC = 0x4074, BPRC = 0x4078, MPRC = 0x407c, GPTC = 0x4080, GORCL = 0x4088, GORCH = 0x408c, GOTCL = 0x4090,
    GOTCH = 0x4094, RNBC = 0x40a0, RUC = 0x40a4, ROC = 0x40ac, TORL = 0x40c0, TORH = 0x40c4, TOTL = 0x40c8,
    TOTH = 0x40cc, TPR = 0x40d0, TPT = 0x40d4, PTC64 = 0x40d8, PTC127 = 0x40dc, PTC255 = 0x40e0,
    PTC511 = 0x40e4, PTC1023 = 0x40e8, PTC1522 = 0x40ec, MPTC = 0x40f0, BPTC = 0x40f4, TSCTC = 0x40f8,
    TSCTFC = 0x40fc,
    RXCSUM = 0x5000, MTA = 0x5200, RA = 0x5400, VFTA = 0x5600, WUC = 0x5800, WUFC = 0x5808, MANC = 0x5820,
};
inline constexpr uint32_t kMmioSize = 0x20000;   // BAR 0
inline constexpr uint32_t kRegSpace = 0x8000;    // where the 82540EM has registers; above reads 0
inline constexpr uint32_t kIoSize = 0x40;        // BAR 1: IOADDR at 0, IODATA at 4
inline constexpr unsigned kMtaWords = 128, kRaPairs = 16, kVftaWords = 128;

// CTRL
inline constexpr uint32_t CTRL_SLU = 1u << 6, CTRL_RST = 1u << 26, CTRL_VME = 1u << 30, CTRL_PHY_RST = 1u << 31;
// STATUS
inline constexpr uint32_t STATUS_FD = 1u << 0, STATUS_LU = 1u << 1, STATUS_SPEED_1000 = 1u << 7;
// EECD (Microwire EEPROM, bit-banged)
inline constexpr uint32_t EECD_SK = 1u << 0, EECD_CS = 1u << 1, EECD_DI = 1u << 2, EECD_DO = 1u << 3,
                          EECD_REQ = 1u << 6, EECD_GNT = 1u << 7, EECD_PRES = 1u << 8;
// EERD
inline constexpr uint32_t EERD_START = 1u << 0, EERD_DONE = 1u << 4;
// MDIC
inline constexpr uint32_t MDIC_OP_WRITE = 1u << 26, MDIC_OP_READ = 2u << 26, MDIC_READY = 1u << 28,
                          MDIC_INT_EN = 1u << 29, MDIC_ERROR = 1u << 30;
// Interrupt causes (ICR, ICS, IMS, IMC)
inline constexpr uint32_t ICR_TXDW = 1u << 0, ICR_TXQE = 1u << 1, ICR_LSC = 1u << 2, ICR_RXDMT0 = 1u << 4,
                          ICR_RXO = 1u << 6, ICR_RXT0 = 1u << 7, ICR_MDAC = 1u << 9;
// RCTL
inline constexpr uint32_t RCTL_EN = 1u << 1, RCTL_UPE = 1u << 3, RCTL_MPE = 1u << 4, RCTL_LPE = 1u << 5,
                          RCTL_BAM = 1u << 15, RCTL_VFE = 1u << 18, RCTL_BSEX = 1u << 25, RCTL_SECRC = 1u << 26;
inline constexpr unsigned RCTL_RDMTS_SHIFT = 8, RCTL_MO_SHIFT = 12, RCTL_BSIZE_SHIFT = 16;
// RDTR: Flush Partial Descriptor block (write-only)
inline constexpr uint32_t RDTR_FPD = 1u << 31;
// TCTL
inline constexpr uint32_t TCTL_EN = 1u << 1;
// RAH
inline constexpr uint32_t RAH_AV = 1u << 31;

// PHY (Marvell 88E1011 behind MDIC, address 1)
enum PhyReg : uint8_t {
    PHY_CTRL = 0x00, PHY_STATUS = 0x01, PHY_ID1 = 0x02, PHY_ID2 = 0x03, PHY_AUTONEG_ADV = 0x04,
    PHY_LP_ABILITY = 0x05, PHY_AUTONEG_EXP = 0x06, PHY_NEXT_PAGE_TX = 0x07, PHY_LP_NEXT_PAGE = 0x08,
    PHY_1000T_CTRL = 0x09, PHY_1000T_STATUS = 0x0a, PHY_EXT_STATUS = 0x0f, M88_PHY_SPEC_CTRL = 0x10,
    M88_PHY_SPEC_STATUS = 0x11, M88_INT_ENABLE = 0x12, M88_EXT_PHY_SPEC_CTRL = 0x14, M88_RX_ERR_CNTR = 0x15,
    M88_LED_CTRL = 0x18, M88_PHY_PAGE_SELECT = 0x1d, M88_PHY_GEN_CONTROL = 0x1e,
};
inline constexpr unsigned kPhyRegs = 0x20;
inline constexpr uint16_t MII_CR_RESTART_AUTO_NEG = 1u << 9, MII_CR_AUTO_NEG_EN = 1u << 12,
                          MII_CR_RESET = 1u << 15;
inline constexpr uint16_t MII_SR_LINK_STATUS = 1u << 2, MII_SR_AUTONEG_COMPLETE = 1u << 5;
inline constexpr uint16_t NWAY_LPAR_LINK_UP = 0x41e0;   // partner: 10/100 half/full, pause, ACK

// Transmit descriptors: legacy, context and data (16 bytes each).
inline constexpr unsigned kDescSize = 16;
inline constexpr uint32_t TXD_CMD_EOP = 1u << 24, TXD_CMD_IFCS = 1u << 25, TXD_CMD_IC = 1u << 26,
                          TXD_CMD_RS = 1u << 27, TXD_CMD_RPS = 1u << 28, TXD_CMD_DEXT = 1u << 29,
                          TXD_CMD_VLE = 1u << 30, TXD_CMD_IDE = 1u << 31;
inline constexpr uint32_t TXD_DTYP_MASK = 0xfu << 20, TXD_DTYP_D = 1u << 20, TXD_DTYP_C = 0;
inline constexpr uint32_t TXD_CMD_TCP = 1u << 24, TXD_CMD_IP = 1u << 25, TXD_CMD_TSE = 1u << 26;
inline constexpr uint32_t TXD_STAT_DD = 1u << 0;
inline constexpr uint8_t TXD_POPTS_IXSM = 1u << 0, TXD_POPTS_TXSM = 1u << 1;

// Receive descriptor status bits.
inline constexpr uint8_t RXD_STAT_DD = 1u << 0, RXD_STAT_EOP = 1u << 1, RXD_STAT_IXSM = 1u << 2,
                         RXD_STAT_VP = 1u << 3;

inline constexpr unsigned kEepromWords = 64;
inline constexpr uint16_t kEepromChecksum = 0xbaba;   // the sum of all 64 words
inline constexpr uint16_t kDeviceId = 0x100e;       // 82540EM
inline constexpr uint16_t kVendorId = 0x8086;

} // namespace kestrel::e1000
