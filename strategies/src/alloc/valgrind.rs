//! Valgrind client requests, so that memcheck understands pymalloc's arenas.
//!
//! Memcheck tracks `malloc` and `free`, but pymalloc carves its blocks out of `mmap`ed arenas
//! itself: to valgrind an arena is one big defined region, and a use-after-free of a pymalloc
//! block would go unnoticed. Pymalloc therefore tells valgrind what each region is:
//!
//! | state of the bytes                          | request                  |
//! |---------------------------------------------|--------------------------|
//! | not carved yet, or a freed block            | [`make_mem_noaccess`]    |
//! | a block just handed out (contents unknown)  | [`make_mem_undefined`]   |
//! | a free block whose free-list link we read   | [`make_mem_defined`]     |
//!
//! A client request is a "magic" instruction sequence that does nothing on a real CPU (four
//! rotations of `rdi` by a total of 128 bits, then `xchg rbx, rbx`) but that valgrind's JIT
//! recognises: it then reads the request from the array whose address is in `rax` and writes
//! the answer to `rdx`, which otherwise keeps the default value (0). This is the x86_64 encoding
//! of `valgrind.h`'s `VALGRIND_DO_CLIENT_REQUEST_EXPR`, written with `core::arch::asm!` so it
//! builds on stable Rust without the valgrind headers. On other architectures the requests are
//! no-ops that answer 0 ("not running on valgrind").
//!
//! Outside valgrind a request costs about ten instructions. Pymalloc still asks
//! [`running_on_valgrind`] once, at construction; natively its fast paths then skip the
//! requests with one predictable branch (see "fast paths" in `pymalloc.rs`).

/// `VG_USERREQ__RUNNING_ON_VALGRIND`: answers the nesting depth of valgrinds (0 natively).
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// Memcheck requests are `('M' << 24) | ('C' << 16) | n`.
const MAKE_MEM_NOACCESS: usize = 0x4D43_0000;
const MAKE_MEM_UNDEFINED: usize = 0x4D43_0001;
const MAKE_MEM_DEFINED: usize = 0x4D43_0002;

/// Issues one client request with up to five arguments and returns valgrind's answer, or
/// `default` when not running under valgrind.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn client_request(default: usize, request: usize, args: [usize; 5]) -> usize {
    let block: [usize; 6] = [request, args[0], args[1], args[2], args[3], args[4]];
    let mut result = default;
    // On a real CPU the sequence rotates rdi by 3+13+61+51 = 128 bits (a no-op on its value),
    // exchanges rbx with itself, and leaves rdx = `default`; only the flags change, and the asm
    // does not claim to preserve them. Under valgrind the request reads `block` (which lives
    // across the asm) and, for the memcheck requests, only changes valgrind's shadow state.
    // SAFETY: no memory of ours is written and no stack is used (see above). Test:
    // allocator::valgrind_requests_are_harmless, and the test binary under valgrind.
    unsafe {
        core::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") block.as_ptr(),
            options(nostack),
        );
    }
    result
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn client_request(default: usize, _request: usize, _args: [usize; 5]) -> usize {
    default
}

/// How many valgrinds we run under: 0 natively, 1 under valgrind.
#[inline]
pub fn running_on_valgrind() -> usize {
    client_request(0, RUNNING_ON_VALGRIND, [0; 5])
}

/// Marks `len` bytes at `addr` unaddressable: any access is reported.
#[inline]
pub fn make_mem_noaccess(addr: *const u8, len: usize) {
    client_request(0, MAKE_MEM_NOACCESS, [addr as usize, len, 0, 0, 0]);
}

/// Marks `len` bytes at `addr` addressable but uninitialised: reading before writing is reported.
#[inline]
pub fn make_mem_undefined(addr: *const u8, len: usize) {
    client_request(0, MAKE_MEM_UNDEFINED, [addr as usize, len, 0, 0, 0]);
}

/// Marks `len` bytes at `addr` addressable and initialised.
#[inline]
pub fn make_mem_defined(addr: *const u8, len: usize) {
    client_request(0, MAKE_MEM_DEFINED, [addr as usize, len, 0, 0, 0]);
}
