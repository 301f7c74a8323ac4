/* A no-emulation El Torito boot image: prints over COM1, reads the CD's
 * sector 16 (its primary volume descriptor) through int 13h extended read
 * and prints its identifier, then resets the machine through port 0xcf9
 * (so that -boot once=d,order=c goes on to the hard disk), or, when
 * RESET is not wanted, exits through isa-debug-exit with 0x12 (status 37). */
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
    movw $dap, %si
    movb $0x42, %ah
    movb drive, %dl
    int $0x13
    jc fail
    movb $0, 0x8006          /* "CD001" at bytes 1-5 of the descriptor */
    movw $pvd, %si
    call puts
    movw $0x8001, %si
    call puts
    movw $crlf, %si
    call puts
    movw $0xcf9, %dx         /* a hard reset, as the FADT's reset register */
    movb $0x06, %al
    outb %al, %dx
halt:
    cli
    hlt
    jmp halt
fail:
    movw $failed, %si
    call puts
    movb $0x13, %al
    outb %al, $0xf4
    jmp halt

    .include "puts.inc"

drive:  .byte 0
hello:  .asciz "CD: booted from El Torito\r\n"
pvd:    .asciz "CD: sector 16 says "
crlf:   .asciz "\r\n"
failed: .asciz "CD: read FAILED\r\n"
    .balign 4
dap: .byte 16, 0
    .word 1, 0x8000, 0
    .quad 16
    .org 510
    .byte 0x55, 0xaa
