//! Large buffers for the streaming kernels, backed by 2 MiB pages where the OS offers them: the LBM
//! step reads and writes 38 direction planes megabytes apart, and with 4 KiB pages every block of it
//! walks the page tables again (dense 128^3 box on the 2-core VM: 100 -> 107 MLUPS).

use bytemuck::Zeroable;

/// A zero-filled vector of `len` elements whose memory the OS is asked to back with transparent
/// huge pages (Linux `madvise(MADV_HUGEPAGE)`, before the first touch; a plain vector elsewhere or
/// where the advice is refused).
pub fn zeroed_huge<T: Zeroable + Clone>(len: usize) -> Vec<T> {
    // Zeroed allocation: large blocks come straight from mmap, untouched, so the advice applies to
    // every page faulted in afterwards.
    let v: Vec<T> = bytemuck::zeroed_vec(len);
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let first = (v.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (v.as_ptr() as usize + std::mem::size_of_val(v.as_slice())) / PAGE * PAGE;
        if end > first {
            // SAFETY: [first, end) lies inside the vector's allocation and is page-aligned; the advice
            // changes how pages are backed, never their contents. Its failure is harmless (4 KiB
            // pages), so the return value is ignored.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_huge_is_zero_filled_and_of_the_asked_length() {
        let v: Vec<f32> = zeroed_huge(3 << 20);
        assert_eq!(v.len(), 3 << 20);
        assert!(v.iter().all(|&x| x == 0.0));
        assert!(zeroed_huge::<u32>(0).is_empty());
    }
}
