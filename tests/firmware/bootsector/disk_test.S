/* A boot sector SeaBIOS loads from an IDE disk: it prints over COM1,
 * reads and writes the disk through int 13h (CHS read, extended LBA
 * write and read back, a read past 128 GiB that needs LBA48), and ends
 * through isa-debug-exit (port 0xf4): 0x10 on success (exit status 33),
 * 0x11 when a call or a comparison failed (exit status 35).
 * Disk layout the test prepares: LBA 1 starts with a NUL-terminated line,
 * LBA 0x10000010 too; the boot sector writes 2 sectors of a pattern at
 * LBA 5, which the test checks in the image file afterwards. */
    .code16
    .text
    .globl _start
_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    sti
    movb %dl, drive
    movw $hello, %si
    call puts

    /* CHS read of cylinder 0, head 0, sector 2 (LBA 1) to 0x8000 */
    movw $0x0201, %ax
    movw $0x0002, %cx
    xorb %dh, %dh
    movb drive, %dl
    movw $0x8000, %bx
    int $0x13
    jc fail
    movw $0x8000, %si
    call puts

    /* the pattern: byte i of 1024 is (i * 7 + 3) & 0xff */
    movw $0x9000, %di
    xorw %cx, %cx
1:  movw %cx, %ax
    movb $7, %bl
    mulb %bl
    addb $3, %al
    stosb
    incw %cx
    cmpw $1024, %cx
    jne 1b

    movw $dap_write, %si
    movw $0x4300, %ax
    movb drive, %dl
    int $0x13
    jc fail
    movw $dap_read, %si
    movb $0x42, %ah
    movb drive, %dl
    int $0x13
    jc fail
    movw $0x9000, %si
    movw $0xa000, %di
    movw $1024, %cx
    cld
    repe cmpsb
    jne fail
    movw $rw_ok, %si
    call puts

    /* past 128 GiB: the BIOS must use LBA48 */
    movw $dap_high, %si
    movb $0x42, %ah
    movb drive, %dl
    int $0x13
    jc fail
    movw $0xb000, %si
    call puts

    movw $done, %si
    call puts
    movb $0x10, %al
    outb %al, $0xf4
    jmp halt

fail:
    movw $failed, %si
    call puts
    movb $0x11, %al
    outb %al, $0xf4
halt:
    cli
    hlt
    jmp halt

    .include "puts.inc"

drive:  .byte 0
hello:  .asciz "BOOT: kestrel IDE disk test\r\n"
rw_ok:  .asciz "INT13: LBA write and read back ok\r\n"
done:   .asciz "INT13: all ok\r\n"
failed: .asciz "INT13: FAILED\r\n"
    .balign 4
dap_write: .byte 16, 0
    .word 2, 0x9000, 0
    .quad 5
dap_read:  .byte 16, 0
    .word 2, 0xa000, 0
    .quad 5
dap_high:  .byte 16, 0
    .word 1, 0xb000, 0
    .quad 0x10000010

    .org 510
    .byte 0x55, 0xaa
