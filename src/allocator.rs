//! The server's allocator: mimalloc for the small blocks that requests and the engine churn
//! through (glibc's malloc took a third of the CPU under write load), the system allocator for
//! large ones. mimalloc zeroes a large zeroed block by hand, touching every page: sled's
//! metrics alone ask for ~20 MB of zeroed histograms at start-up, which took start-up from 10
//! to 28 ms and idle memory from 17 to 41 MB. glibc serves such blocks from fresh mappings,
//! whose pages cost nothing until written, and unmaps them when freed: its threshold for that is
//! fixed here, since by default it rises after each free and then keeps large blocks in its
//! arenas (256 MB resident after a write burst, where mimalloc alone kept 100).

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::sync::Once;

use mimalloc::MiMalloc;

/// Blocks of at least this many bytes come from the system allocator. mimalloc keeps larger
/// blocks in pages of 512 KiB or more (version 3 from 10 KiB, version 2 from 8 KiB), and one
/// live block keeps its whole page: after a burst, such pages held three times what was live
/// in them. glibc hands back every free page inside its heaps on `malloc_trim`.
const MEDIUM: usize = 16 * 1024;
/// Blocks of at least this many bytes glibc maps on their own (by default from 128 KiB).
const LARGE: usize = 256 * 1024;

/// glibc's arenas, shared by every thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

pub struct Allocator;

fn is_large(layout: &Layout) -> bool {
    layout.size() >= MEDIUM
}

/// Makes glibc map every large block on its own, once, before the first one.
fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    static MAPPED_FROM_LARGE: Once = Once::new();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    MAPPED_FROM_LARGE.call_once(|| {
        // SAFETY: mallopt only sets tuning parameters; it allocates nothing.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE as libc::c_int);
            // glibc gives each thread that allocates an arena of its own (up to eight per
            // core), each holding its free memory apart; medium blocks are few enough to share.
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    });
}

/// Hands the free pages inside glibc's heaps back to the system.
pub fn trim_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only advises the kernel about free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

// SAFETY: every block is freed by the allocator that made it, because both choices depend only
// on the layout's size, which the caller passes back unchanged; realloc across the threshold
// moves the block between them.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(&layout) {
            map_large_blocks();
            unsafe { System.alloc(layout) }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(&layout) {
            map_large_blocks();
            unsafe { System.alloc_zeroed(layout) }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(&layout) {
            unsafe { System.dealloc(ptr, layout) }
        } else {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees new_size, rounded up to the alignment, fits an isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_large(&layout), is_large(&new_layout)) {
            (false, false) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            (true, true) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => unsafe {
                let moved = self.alloc(new_layout);
                if !moved.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                moved
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_grow_and_shrink_across_the_threshold_intact() {
        let a = Allocator;
        unsafe {
            let small = Layout::from_size_align(1000, 16).unwrap();
            let p = a.alloc_zeroed(small);
            assert!(p.cast::<[u8; 1000]>().read().iter().all(|b| *b == 0));
            p.write_bytes(7, 1000);
            let p = a.realloc(p, small, LARGE * 2);
            assert_eq!(p as usize % 16, 0);
            assert!(std::slice::from_raw_parts(p, 1000).iter().all(|b| *b == 7));
            let large = Layout::from_size_align(LARGE * 2, 16).unwrap();
            let p = a.realloc(p, large, 500);
            assert!(std::slice::from_raw_parts(p, 500).iter().all(|b| *b == 7));
            a.dealloc(p, Layout::from_size_align(500, 16).unwrap());
            let big = Layout::from_size_align(LARGE * 4, 64).unwrap();
            let q = a.alloc_zeroed(big);
            assert_eq!(q as usize % 64, 0);
            assert!(std::slice::from_raw_parts(q, LARGE * 4)
                .iter()
                .all(|b| *b == 0));
            a.dealloc(q, big);
        }
    }
}
