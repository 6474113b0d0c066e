//! What `PssWalkSnapshot` returns, one type per walk class. Each holds the raw entry structure
//! by value and borrows its variable-length parts (strings, context records, page contents)
//! from the walk marker for `'w`; `into_owned` copies them.

mod aux_page;
mod handle;
mod region;
mod thread;

pub use aux_page::AuxiliaryPageEntry;
pub use handle::{
    EventObject, HandleBasicInformation, HandleEntry, HandleFlags, MutantObject, ObjectType,
    ProcessObject, SectionObject, SemaphoreObject, ThreadObject, TypeSpecific,
};
pub use region::{ImageInformation, VaSpaceEntry};
pub use thread::{ThreadEntry, ThreadFlags};

use std::borrow::Cow;

/// A raw entry structure, held by value.
///
/// Its pointer fields are either addresses in the captured process (never dereferenced by
/// `pss`) or point into walk-marker memory, which `pss` reads only through the slices the
/// entry holds next to it (and those carry their own `Send`/`Sync`). So the structure itself
/// is plain data that any thread may hold and read.
#[derive(Clone, Copy)]
pub(crate) struct RawEntry<T>(pub(crate) T);

/// Implements `Send` and `Sync` for `RawEntry` of exactly the four PSS entry structures, which
/// are plain data (see above); no other `T` gets them by accident.
macro_rules! plain_data_entries {
    ($($entry:ty),+) => {$(
        // SAFETY: see above: no pointer in the structure is dereferenced through `RawEntry`.
        unsafe impl Send for RawEntry<$entry> {}
        // SAFETY: as above; shared access only copies or reads the plain fields.
        unsafe impl Sync for RawEntry<$entry> {}
    )+};
}

plain_data_entries!(
    pss_sys::PSS_THREAD_ENTRY,
    pss_sys::PSS_HANDLE_ENTRY,
    pss_sys::PSS_VA_SPACE_ENTRY,
    pss_sys::PSS_AUXILIARY_PAGE_ENTRY
);

/// `len` bytes at `ptr` borrowed for `'w`; `None` for NULL or an empty record.
///
/// # Safety
///
/// Unless NULL, `ptr` must point to `len` readable bytes that stay valid and unchanged for
/// `'w`.
pub(crate) unsafe fn bytes<'w>(ptr: *const u8, len: usize) -> Option<Cow<'w, [u8]>> {
    // No valid slice is longer than `isize::MAX` bytes (reachable only through a kernel32 bug,
    // e.g. a `PageSize` above 2 GiB on 32-bit).
    if ptr.is_null() || len == 0 || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-null and `len` readable bytes valid for `'w` (the caller); `u8` needs no
    // alignment and has no invalid values.
    Some(Cow::Borrowed(unsafe {
        core::slice::from_raw_parts(ptr, len)
    }))
}

/// An owned copy of a borrowed part (no copy if it is already owned).
pub(crate) fn owned<T: ?Sized + ToOwned>(part: Cow<'_, T>) -> Cow<'static, T> {
    Cow::Owned(part.into_owned())
}
