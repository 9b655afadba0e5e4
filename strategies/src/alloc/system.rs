//! The system allocators underneath everything: jemalloc (default) or the C library's malloc.
//!
//! [`SystemBackend`] is a plain selector with two raw functions, [`SystemBackend::alloc`] and
//! [`SystemBackend::free`]. Pymalloc sends its requests above 512 bytes here; `PerObjectMalloc`
//! sends every request here. Both functions keep the allocator-wide promises of this module
//! tree: blocks are 16-byte aligned, a zero-byte request still yields a unique block, and running
//! out of memory aborts through [`handle_alloc_error`] rather than returning null.
//!
//! Why two backends: jemalloc is fast and is what the harness measures by default, but valgrind
//! cannot see inside it (it keeps its own arenas, like pymalloc). With [`SystemBackend::Libc`]
//! every block is a real `malloc` that memcheck tracks on its own.

use std::alloc::{Layout, handle_alloc_error};
use std::ptr::NonNull;

use super::ALIGNMENT;

/// Where blocks that are not served from pymalloc pools come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SystemBackend {
    /// jemalloc (tikv-jemalloc-sys, prefixed symbols, so it never replaces the process malloc).
    Jemalloc,
    /// The C library's `malloc`/`free`; valgrind intercepts these.
    Libc,
}

/// jemalloc flags for every call: ask for [`ALIGNMENT`] explicitly, so that even the 8-byte size
/// class (which jemalloc only aligns to 8) is never handed out. `sdallocx` gets the same flags.
const JEMALLOC_FLAGS: libc::c_int = tikv_jemalloc_sys::MALLOCX_ALIGN(ALIGNMENT);

impl SystemBackend {
    /// Every backend, default first.
    pub const ALL: [SystemBackend; 2] = [SystemBackend::Jemalloc, SystemBackend::Libc];

    /// The name the command line and the results use.
    pub fn name(self) -> &'static str {
        match self {
            SystemBackend::Jemalloc => "jemalloc",
            SystemBackend::Libc => "libc",
        }
    }

    /// The inverse of [`SystemBackend::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|backend| backend.name() == name)
    }

    /// Returns a fresh block of at least `size` bytes (at least one), aligned to [`ALIGNMENT`].
    /// Aborts the process when the system is out of memory.
    #[inline]
    pub fn alloc(self, size: usize) -> NonNull<u8> {
        let request = size.max(1);
        let raw = match self {
            // SAFETY: `mallocx` accepts any non-zero size with a valid power-of-two alignment
            // flag; a null result is handled below. Test: allocator::blocks_never_overlap.
            SystemBackend::Jemalloc => unsafe { tikv_jemalloc_sys::mallocx(request, JEMALLOC_FLAGS) },
            SystemBackend::Libc => libc_alloc(request),
        };
        match NonNull::new(raw.cast::<u8>()) {
            Some(block) => {
                debug_assert_eq!(block.as_ptr() as usize % ALIGNMENT, 0);
                block
            }
            None => out_of_memory(request),
        }
    }

    /// Returns a block to the system.
    ///
    /// # Safety
    /// `ptr` must come from `self.alloc(size)` on this same backend with this same `size`, and
    /// must not have been freed since.
    #[inline]
    pub unsafe fn free(self, ptr: NonNull<u8>, size: usize) {
        let request = size.max(1);
        match self {
            // SAFETY: the caller passes a live block from `mallocx(request, JEMALLOC_FLAGS)`;
            // `sdallocx` takes that same size and flags. Test: allocator::contents_survive.
            SystemBackend::Jemalloc => unsafe {
                tikv_jemalloc_sys::sdallocx(ptr.as_ptr().cast(), request, JEMALLOC_FLAGS)
            },
            // SAFETY: the caller passes a live block from `libc_alloc`, i.e. from malloc or
            // posix_memalign, both released by `free`. Test: allocator::contents_survive.
            SystemBackend::Libc => unsafe { libc::free(ptr.as_ptr().cast()) },
        }
    }
}

/// glibc, musl and macOS libc align every `malloc` result to 16 bytes on these targets (their
/// `max_align_t`), so plain `malloc` is enough there and stays the cheapest call.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline]
fn libc_alloc(size: usize) -> *mut libc::c_void {
    // SAFETY: `malloc` accepts any size and reports failure with null, which the caller
    // handles. Test: allocator::blocks_are_aligned (checks the 16-byte promise).
    unsafe { libc::malloc(size) }
}

/// Elsewhere ask for the alignment explicitly.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
fn libc_alloc(size: usize) -> *mut libc::c_void {
    let mut out: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: ALIGNMENT is a power of two and a multiple of the pointer size, as
    // posix_memalign requires; `out` is a valid place to write. Test: allocator::blocks_are_aligned.
    let rc = unsafe { libc::posix_memalign(&mut out, ALIGNMENT, size) };
    if rc == 0 { out } else { std::ptr::null_mut() }
}

/// Reports an allocation failure the way the standard library does, and never returns.
#[cold]
#[inline(never)]
pub(crate) fn out_of_memory(size: usize) -> ! {
    let layout = Layout::from_size_align(size, ALIGNMENT).unwrap_or(Layout::new::<u128>());
    handle_alloc_error(layout)
}
