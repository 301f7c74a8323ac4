#pragma once
// VGA register numbers, the Bochs VBE ("dispi") interface and QEMU's
// std-VGA MMIO layout, as the IBM VGA reference and QEMU define them.
#include <cstdint>

namespace kestrel::vga {

// Ports (colour addresses; the mono CRTC and status sit at 0x3b4/0x3ba).
constexpr uint16_t kPortBase = 0x3b0;  // the block 0x3b0-0x3df
constexpr uint16_t ATT_W = 0x3c0, ATT_R = 0x3c1, MIS_W = 0x3c2, ST00 = 0x3c2;
constexpr uint16_t SEQ_I = 0x3c4, SEQ_D = 0x3c5, PEL_MSK = 0x3c6, PEL_IR = 0x3c7, PEL_IW = 0x3c8;
constexpr uint16_t PEL_D = 0x3c9, FTC_R = 0x3ca, MIS_R = 0x3cc, GFX_I = 0x3ce, GFX_D = 0x3cf;
constexpr uint16_t CRT_IM = 0x3b4, CRT_DM = 0x3b5, IS1_RM = 0x3ba;
constexpr uint16_t CRT_IC = 0x3d4, CRT_DC = 0x3d5, IS1_RC = 0x3da;

// Sequencer.
constexpr uint8_t SR_RESET = 0, SR_CLOCK_MODE = 1, SR_PLANE_WRITE = 2, SR_CHARACTER_MAP = 3, SR_MEMORY_MODE = 4;
constexpr uint8_t SR01_8DOTS = 0x01, SR01_DOUBLE_WIDTH = 0x08, SR01_SCREEN_OFF = 0x20;
constexpr uint8_t SR02_ALL_PLANES = 0x0f, SR04_CHAIN4 = 0x08;
// Graphics controller.
constexpr uint8_t GR_SR_VALUE = 0, GR_SR_ENABLE = 1, GR_COMPARE_VALUE = 2, GR_DATA_ROTATE = 3;
constexpr uint8_t GR_PLANE_READ = 4, GR_MODE = 5, GR_MISC = 6, GR_COMPARE_MASK = 7, GR_BIT_MASK = 8;
constexpr uint8_t GR06_GRAPHICS = 0x01;
// CRT controller.
constexpr uint8_t CR_H_TOTAL = 0x00, CR_H_DISP = 0x01, CR_OVERFLOW = 0x07, CR_MAX_SCAN = 0x09;
constexpr uint8_t CR_CURSOR_START = 0x0a, CR_CURSOR_END = 0x0b, CR_START_HI = 0x0c, CR_START_LO = 0x0d;
constexpr uint8_t CR_CURSOR_HI = 0x0e, CR_CURSOR_LO = 0x0f, CR_V_SYNC_END = 0x11, CR_V_DISP_END = 0x12;
constexpr uint8_t CR_OFFSET = 0x13, CR_V_TOTAL = 0x06, CR_MODE = 0x17, CR_LINE_COMPARE = 0x18;
constexpr uint8_t CR11_LOCK_CR0_CR7 = 0x80;
// Attribute controller.
constexpr uint8_t AR_MODE = 0x10, AR_OVERSCAN = 0x11, AR_PLANE_ENABLE = 0x12, AR_PEL = 0x13;
constexpr uint8_t AR_COLOR_PAGE = 0x14, AR_COUNT = 0x15;
// Misc output / input status 1.
constexpr uint8_t MIS_COLOR = 0x01;
constexpr uint8_t ST01_V_RETRACE = 0x08, ST01_DISP_ENABLE = 0x01;

// Bochs VBE ("dispi"): index at 0x1ce, data at 0x1cf (16 bits each).
constexpr uint16_t kVbePort = 0x1ce;
constexpr uint16_t VBE_INDEX_ID = 0, VBE_INDEX_XRES = 1, VBE_INDEX_YRES = 2, VBE_INDEX_BPP = 3;
constexpr uint16_t VBE_INDEX_ENABLE = 4, VBE_INDEX_BANK = 5, VBE_INDEX_VIRT_WIDTH = 6;
constexpr uint16_t VBE_INDEX_VIRT_HEIGHT = 7, VBE_INDEX_X_OFFSET = 8, VBE_INDEX_Y_OFFSET = 9;
constexpr uint16_t VBE_INDEX_COUNT = 10, VBE_INDEX_VIDEO_MEMORY_64K = 0xa;
constexpr uint16_t VBE_ID0 = 0xb0c0, VBE_ID5 = 0xb0c5;
constexpr uint16_t VBE_ENABLED = 0x01, VBE_GETCAPS = 0x02, VBE_8BIT_DAC = 0x20, VBE_LFB_ENABLED = 0x40;
constexpr uint16_t VBE_NOCLEARMEM = 0x80;
constexpr uint16_t VBE_MAX_XRES = 16000, VBE_MAX_YRES = 12000, VBE_MAX_BPP = 32;

// The legacy window and QEMU's std-VGA MMIO BAR.
constexpr uint64_t kLegacyBase = 0xa0000, kLegacySize = 0x20000;
constexpr uint64_t MMIO_EDID = 0x000, MMIO_EDID_SIZE = 0x400;
constexpr uint64_t MMIO_VGA_PORTS = 0x400, MMIO_VGA_PORTS_SIZE = 0x20;  // 0x3c0-0x3df
constexpr uint64_t MMIO_BOCHS = 0x500, MMIO_BOCHS_SIZE = 0x16;
constexpr uint64_t MMIO_QEXT = 0x600, MMIO_QEXT_SIZE = 0x8;
constexpr uint64_t kMmioBarSize = 0x1000;
constexpr uint32_t QEXT_BYTEORDER_LE = 0x1e1e1e1e, QEXT_BYTEORDER_BE = 0xbebebebe;

} // namespace kestrel::vga
