//! Reading the VA clone's memory: `ReadProcessMemory` through the clone handle a snapshot lends.

use std::io;

use pss_sys as sys;

use crate::handle::{AsRawHandle, BorrowedHandle};
use crate::{Error, ErrorCode, ErrorKind, Result, VaClone};

/// Plain data: any `size_of::<Self>()` bytes are a valid `Self`, so a value can be read out of
/// another process's memory. [`VaClone::read_value`] reads these.
///
/// Implemented for the integer and floating-point types and arrays of plain data. Not for
/// `bool`, `char`, references, pointers to memory of this process, or anything with padding a
/// reader could see.
///
/// # Safety
///
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid value of `Self` (no invalid
/// values, no padding whose contents matter, no pointers that `Self`'s methods would follow).
pub unsafe trait PlainData: Copy + 'static {}

macro_rules! plain_data {
    ($($t:ty),+) => {$(
        // SAFETY: every bit pattern of a primitive integer or float is a valid value.
        unsafe impl PlainData for $t {}
    )+};
}

plain_data!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

// SAFETY: an array of plain data has no padding between elements and no invalid bit patterns.
unsafe impl<T: PlainData, const N: usize> PlainData for [T; N] {}

/// [`ReadProcessMemory`]`(process, address, buf, len, &read)`: how many bytes were copied, and
/// the error if not all. No allocation.
///
/// [`ReadProcessMemory`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory
fn read_process_memory(
    process: BorrowedHandle<'_>,
    address: usize,
    buf: &mut [u8],
) -> (usize, Option<Error>) {
    if buf.is_empty() {
        return (0, None);
    }
    let mut read = 0usize;
    // SAFETY: `process` is an open handle borrowed for the call; the address is only a number
    // in that process; `buf` is `buf.len()` writable bytes of this process; `read` is a valid
    // place for the count.
    let ok = unsafe {
        sys::ReadProcessMemory(
            process.as_raw_handle(),
            core::ptr::without_provenance(address),
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut read,
        )
    };
    if ok != 0 {
        return (buf.len(), None);
    }
    // SAFETY: no preconditions; it reads the code `ReadProcessMemory` left on this thread.
    let code = unsafe { sys::GetLastError() };
    let read = read.min(buf.len());
    (read, Some(Error::read_failed(code, read)))
}

/// The page size of every Windows target (x86, x64 and arm64 all use 4 KiB pages): the unit in
/// which memory is readable or not.
const PAGE: usize = 0x1000;

/// Reads every readable byte of `buf.len()` from `address` on: what one `ReadProcessMemory`
/// copies, and, if it stops with `ERROR_PARTIAL_COPY`, page by page from where it says it
/// stopped up to the first page that cannot be read. The kernel copies in chunks (up to 64 KiB)
/// and after a fault reports only the chunks it completed, not the exact byte, so the count of
/// the first call can fall short of the readable bytes by up to a chunk; readability changes
/// only at page boundaries, so the page-by-page reads find the exact end. Returns the bytes
/// read and, if short, the error (with [`Error::bytes_read`] set to that count).
fn read_readable(
    process: BorrowedHandle<'_>,
    address: usize,
    buf: &mut [u8],
) -> (usize, Option<Error>) {
    let (mut done, error) = read_process_memory(process, address, buf);
    let Some(error) = error else {
        return (done, None);
    };
    if error.kind() != ErrorKind::Os(ErrorCode::PARTIAL_COPY) {
        return (done, Some(error));
    }
    while done < buf.len() {
        let at = address.wrapping_add(done);
        let page_left = PAGE - at % PAGE;
        if done + page_left >= buf.len() && done == error.bytes_read().unwrap_or(0) {
            // The rest lies in the page the failed call stopped in: asking again for the same
            // bytes would fail the same way.
            break;
        }
        let len = page_left.min(buf.len() - done);
        let (read, failed) = read_process_memory(process, at, &mut buf[done..done + len]);
        done += read;
        if failed.is_some() {
            break;
        }
    }
    if done == buf.len() {
        (done, None)
    } else {
        (
            done,
            Some(Error::read_failed(sys::ERROR_PARTIAL_COPY, done)),
        )
    }
}

impl<'s> VaClone<'s> {
    /// [`ReadProcessMemory`]: reads memory of the clone at `address` into `buf`, and returns how
    /// many bytes it read.
    ///
    /// All of `buf`, unless the range runs into memory that cannot be read: then every byte
    /// before it (a short count), or, when not even the first byte can be read, the error
    /// ([`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY)). Addresses are the captured
    /// process's; the clone holds its private memory and shareable image and mapped sections as
    /// of capture time, not anonymous shared sections (which read as `PartialCopy`) and not
    /// anything the process wrote after the capture. No allocation.
    ///
    /// One kernel32 call when the whole range is readable (none for an empty `buf`). When it
    /// is not, Windows reports a failed read only to the last whole chunk it copied (the kernel
    /// copies up to 64 KiB at a time), not to the byte where readable memory ends; `read` then
    /// continues page by page from there, up to the first unreadable page, so the count is
    /// exact: up to 16 more calls, the fewest that find the end.
    ///
    /// The clone handle has `PROCESS_VM_READ` (Windows opens it with `0x1418`).
    ///
    /// Kernel32 calls: `ReadProcessMemory`, and after a short read `GetLastError` and the
    /// page-by-page `ReadProcessMemory` calls above.
    ///
    /// # References
    ///
    /// - [`ReadProcessMemory`]
    ///
    /// [`ReadProcessMemory`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory
    #[doc(alias = "ReadProcessMemory")]
    pub fn read(&self, address: usize, buf: &mut [u8]) -> Result<usize> {
        match read_readable(self.handle(), address, buf) {
            (read, None) => Ok(read),
            (read, Some(error))
                if read > 0 && error.kind() == ErrorKind::Os(ErrorCode::PARTIAL_COPY) =>
            {
                Ok(read)
            }
            (_, Some(error)) => Err(error),
        }
    }

    /// [`ReadProcessMemory`]: fills all of `buf` from `address`, or fails.
    ///
    /// A range that runs into memory that cannot be read fails with
    /// [`ErrorCode::PARTIAL_COPY`](crate::ErrorCode::PARTIAL_COPY), and [`Error::bytes_read`]
    /// says how many bytes of `buf` were filled: every readable byte before the unreadable
    /// memory, found as [`read`](Self::read) finds it.
    ///
    /// Kernel32 calls: as [`read`](Self::read).
    ///
    /// # References
    ///
    /// - [`ReadProcessMemory`]
    ///
    /// [`ReadProcessMemory`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory
    #[doc(alias = "ReadProcessMemory")]
    pub fn read_exact(&self, address: usize, buf: &mut [u8]) -> Result<()> {
        match read_readable(self.handle(), address, buf) {
            (_, None) => Ok(()),
            (_, Some(error)) => Err(error),
        }
    }

    /// [`ReadProcessMemory`]: reads a `T` at `address` (any alignment), or fails as
    /// [`read_exact`](Self::read_exact) does.
    ///
    /// ```no_run,standalone_crate
    /// # fn f(snapshot: &pss::LocalSnapshot) -> pss::Result<()> {
    /// // The main executable's DOS header, and where its PE header is.
    /// let image = snapshot.main_image()?;
    /// let clone = snapshot.va_clone()?;
    /// let magic: [u8; 2] = clone.read_value(image.base)?;
    /// assert_eq!(&magic, b"MZ");
    /// let e_lfanew: u32 = clone.read_value(image.base + 0x3c)?;
    /// # Ok(()) }
    /// ```
    ///
    /// Kernel32 calls: `ReadProcessMemory`, and `GetLastError` if it fails.
    ///
    /// # References
    ///
    /// - [`ReadProcessMemory`]
    ///
    /// [`ReadProcessMemory`]: https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory
    #[doc(alias = "ReadProcessMemory")]
    pub fn read_value<T: PlainData>(&self, address: usize) -> Result<T> {
        let mut value = core::mem::MaybeUninit::<T>::zeroed();
        // SAFETY: the `size_of::<T>()` bytes of `value` are initialised (zeroed), and a `u8`
        // slice over them may be written with any bytes.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), size_of::<T>())
        };
        self.read_exact(address, bytes)?;
        // SAFETY: all bytes are initialised (zeroed, then read), and `T: PlainData` makes any
        // bytes a valid `T`.
        Ok(unsafe { value.assume_init() })
    }

    /// A cursor over the clone's address space: [`std::io::Read`] and [`std::io::Seek`], where
    /// the position is an address of the captured process (starting at 0). Each `read` is one
    /// [`read`](Self::read); unreadable memory is an [`io::Error`] made from the [`Error`].
    pub fn reader(&self) -> CloneReader<'s> {
        CloneReader {
            clone: *self,
            position: 0,
        }
    }
}

/// [`VaClone::reader`]: the clone's address space as an [`io::Read`] + [`io::Seek`] cursor.
///
/// Reads go through [`VaClone::read`]: a short read stops at memory that cannot be read, and a
/// read that cannot read its first byte is an error (an [`io::Error`] made from the [`Error`]).
/// Seeking from the end counts from the top of the address space: 2^32 on 32-bit targets, and
/// on 64-bit ones 2^64 − 1, the largest position a `u64` holds (the last byte of the address
/// space is kernel memory, which no clone read can reach, so nothing readable is lost), so
/// `SeekFrom::End(0)` and `SeekFrom::End(-1)` are different positions.
#[derive(Debug, Clone, Copy)]
pub struct CloneReader<'s> {
    clone: VaClone<'s>,
    position: u64,
}

impl CloneReader<'_> {
    /// The top of the address space as a position: one past the last address on 32-bit
    /// targets, `u64::MAX` on 64-bit ones (see the type's docs).
    const END: u128 = if usize::BITS < 64 {
        1 << usize::BITS
    } else {
        u64::MAX as u128
    };

    /// The address the next read starts at.
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl io::Read for CloneReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(address) = usize::try_from(self.position) else {
            return Ok(0); // past the top of the address space
        };
        let left = usize::try_from(Self::END - u128::from(self.position)).unwrap_or(usize::MAX);
        let len = buf.len().min(left);
        let read = self.clone.read(address, &mut buf[..len])?;
        self.position += read as u64;
        Ok(read)
    }
}

impl io::Seek for CloneReader<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let (base, offset) = match to {
            io::SeekFrom::Start(at) => (0, i128::from(at)),
            io::SeekFrom::Current(delta) => (i128::from(self.position), i128::from(delta)),
            io::SeekFrom::End(delta) => (Self::END as i128, i128::from(delta)),
        };
        let target = base + offset;
        if target < 0 || target > Self::END as i128 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the address space",
            ));
        }
        // In range: 0..=END, and END fits a u64.
        self.position = target as u64;
        Ok(self.position)
    }
}
