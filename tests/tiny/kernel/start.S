/* Entry points of the tiny test kernel. Built three ways:
 *   -DMULTIBOOT          multiboot header, ELF (the loader reads the ELF)
 *   -DMULTIBOOT -DAOUT   multiboot header with the a.out kludge fields
 *                        (for the flat binary made with objcopy)
 *   neither              no multiboot header: booted by its PVH note
 * The PVH note is in every variant; a multiboot header wins over it. */
#define MB_MAGIC 0x1badb002
#ifdef AOUT
#define MB_FLAGS 0x00010003 /* page-aligned modules, memory info, a.out kludge */
#else
#define MB_FLAGS 0x00000003
#endif

    .section .multiboot, "a"
    .align 4
#ifdef MULTIBOOT
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT
    .long mb_header       /* header_addr */
    .long __load_start    /* load_addr */
    .long __load_end      /* load_end_addr */
    .long __bss_end       /* bss_end_addr */
    .long multiboot_entry /* entry_addr */
#endif
#endif

    /* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit PVH entry point. */
    .section .note.Xen, "a"
    .align 4
    .long 4, 4, 18
    .asciz "Xen"
    .long pvh_entry

    .text
    .code32
    .globl multiboot_entry
multiboot_entry:
    cli
    mov $stack_top, %esp
    push %ebx
    push %eax
    call multiboot_main
1:  cli
    hlt
    jmp 1b

    .globl pvh_entry
pvh_entry:
    cli
    mov $stack_top, %esp
    push %ebx
    call pvh_main
2:  cli
    hlt
    jmp 2b

    .bss
    .align 16
stack:
    .space 16384
stack_top:
    .section .note.GNU-stack,"",@progbits
