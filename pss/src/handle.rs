//! Process handles, following Rust's [I/O-safety] conventions.
//!
//! On Windows these are the standard library's own types from [`std::os::windows::io`][windows-io],
//! re-exported, so a [`std::process::Child`], an [`OwnedHandle`] or a [`BorrowedHandle`] works
//! directly with `pss`. Those types exist only on Windows targets; on other hosts (where `pss`
//! runs against the kernel32 model of the `pss-tests` crate) this module defines same-named
//! minimal equivalents instead. This is the only module of `pss` with platform-dependent code.
//!
//! A snapshot handle (`HPSS`) is *not* one of these: it is not a kernel handle and must never
//! be put in an [`OwnedHandle`] or closed with [`CloseHandle`]. `pss` keeps it in
//! [`LocalSnapshot`](crate::LocalSnapshot) and [`RemoteSnapshot`](crate::RemoteSnapshot).
//!
//! [I/O-safety]: https://doc.rust-lang.org/std/io/index.html#io-safety
//! [windows-io]: https://doc.rust-lang.org/std/os/windows/io/index.html
//! [`CloseHandle`]: https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-closehandle

use std::rc::Rc;
use std::sync::Arc;

#[cfg(windows)]
pub use std::os::windows::io::{
    AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, IntoRawHandle, OwnedHandle, RawHandle,
};

#[cfg(not(windows))]
pub use host::{
    AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, IntoRawHandle, OwnedHandle, RawHandle,
};

/// A handle to one process that stays the same for as long as the value lives.
///
/// A [`RemoteSnapshot`](crate::RemoteSnapshot) is freed through the handle it holds, possibly
/// long after it was created. Passing `PssFreeSnapshot` a handle to a different process than
/// the one that contains the snapshot is not described by the documentation (it could free
/// memory of the wrong process, including this one), so the handle must not change.
/// [`AsHandle`] alone is a safe trait and promises no such thing, hence this marker.
///
/// Implemented for [`OwnedHandle`], [`BorrowedHandle`], [`std::process::Child`] (on Windows),
/// and for references and smart pointers to any of them.
///
/// # Safety
///
/// Every call of [`as_handle`](AsHandle::as_handle) on a value, for as long as the value (or
/// the borrow it is) lives, must return the same handle, and that handle must stay open that
/// long. Moving the value must not change this. [`granted_access`](Self::granted_access), if
/// it returns `Some`, must name exactly the rights the handle was granted.
pub unsafe trait ProcessHandle: AsHandle {
    /// The access rights the handle was granted, where known: only for a
    /// [`Process`](crate::Process) that [`open_process`](crate::open_process) opened (and
    /// references and smart pointers to one); `None` for every other handle, whose rights
    /// kernel32 has no documented way to read.
    ///
    /// `pss` uses it to refuse what would fail or leak silently: a
    /// [`RemoteSnapshot`](crate::RemoteSnapshot) whose handle could not free it (see there).
    fn granted_access(&self) -> Option<crate::ProcessAccess> {
        None
    }
}

// SAFETY: an OwnedHandle holds one handle from construction to drop and cannot change it.
unsafe impl ProcessHandle for OwnedHandle {}
// SAFETY: a BorrowedHandle is a copy of one handle value, open for its whole lifetime.
unsafe impl ProcessHandle for BorrowedHandle<'_> {}

/// `granted_access` of a reference or smart pointer: the referent's.
macro_rules! forward_granted_access {
    () => {
        fn granted_access(&self) -> Option<crate::ProcessAccess> {
            T::granted_access(self)
        }
    };
}

// SAFETY: a shared borrow cannot change the referent, which upholds the contract itself.
unsafe impl<T: ProcessHandle + ?Sized> ProcessHandle for &T {
    forward_granted_access!();
}
// SAFETY: the exclusive borrow is held by the value, so nothing else can change the referent.
unsafe impl<T: ProcessHandle + ?Sized> ProcessHandle for &mut T {
    forward_granted_access!();
}
// SAFETY: the box owns the referent, which upholds the contract itself.
unsafe impl<T: ProcessHandle + ?Sized> ProcessHandle for Box<T> {
    forward_granted_access!();
}
// SAFETY: `Rc` gives only shared access to the referent, which upholds the contract itself.
unsafe impl<T: ProcessHandle + ?Sized> ProcessHandle for Rc<T> {
    forward_granted_access!();
}
// SAFETY: `Arc` gives only shared access to the referent, which upholds the contract itself.
unsafe impl<T: ProcessHandle + ?Sized> ProcessHandle for Arc<T> {
    forward_granted_access!();
}
// SAFETY: a `Child` holds the process handle `CreateProcessW` returned until it is dropped
// (`wait`, `kill` and `try_wait` use it but never close or replace it).
#[cfg(windows)]
unsafe impl ProcessHandle for std::process::Child {}

/// Same-named minimal equivalents of the `std::os::windows::io` handle types, for hosts where
/// `pss` runs against the kernel32 model. They behave like the standard ones for what `pss`
/// needs: an owned handle is closed with `CloseHandle` on drop.
#[cfg(not(windows))]
mod host {
    use core::ffi::c_void;
    use core::fmt;
    use core::marker::PhantomData;
    use std::rc::Rc;
    use std::sync::Arc;

    /// A raw handle value: `HANDLE` in C.
    pub type RawHandle = *mut c_void;

    /// An owned handle, closed with [`CloseHandle`] on drop.
    ///
    /// [`CloseHandle`]: https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-closehandle
    #[doc(alias = "CloseHandle")]
    #[repr(transparent)]
    pub struct OwnedHandle {
        handle: RawHandle,
    }

    /// A borrowed handle, valid for `'handle`.
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct BorrowedHandle<'handle> {
        handle: RawHandle,
        _borrow: PhantomData<&'handle OwnedHandle>,
    }

    // SAFETY: a handle is a process-wide kernel object reference with no thread affinity; this
    // matches `std::os::windows::io::OwnedHandle`, which is `Send` and `Sync`.
    unsafe impl Send for OwnedHandle {}
    // SAFETY: as for `Send`; `&OwnedHandle` only reads the handle value.
    unsafe impl Sync for OwnedHandle {}
    // SAFETY: as for `OwnedHandle`.
    unsafe impl Send for BorrowedHandle<'_> {}
    // SAFETY: as for `OwnedHandle`.
    unsafe impl Sync for BorrowedHandle<'_> {}

    impl BorrowedHandle<'_> {
        /// Borrows a raw handle.
        ///
        /// # Safety
        ///
        /// `handle` must be a handle that stays open for the returned lifetime (or a
        /// pseudo handle such as `GetCurrentProcess()`).
        pub const unsafe fn borrow_raw(handle: RawHandle) -> Self {
            BorrowedHandle {
                handle,
                _borrow: PhantomData,
            }
        }
    }

    impl Drop for OwnedHandle {
        fn drop(&mut self) {
            // SAFETY: we own the handle and close it exactly once; the result is ignored, as
            // in std.
            unsafe { pss_sys::CloseHandle(self.handle) };
        }
    }

    impl fmt::Debug for OwnedHandle {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedHandle")
                .field("handle", &self.handle)
                .finish()
        }
    }

    impl fmt::Debug for BorrowedHandle<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BorrowedHandle")
                .field("handle", &self.handle)
                .finish()
        }
    }

    /// Borrows a handle.
    pub trait AsHandle {
        /// Borrows the handle.
        fn as_handle(&self) -> BorrowedHandle<'_>;
    }

    /// Reads the raw handle value without borrowing it.
    pub trait AsRawHandle {
        /// The raw handle value.
        fn as_raw_handle(&self) -> RawHandle;
    }

    /// Takes ownership of a raw handle.
    pub trait FromRawHandle {
        /// Takes ownership of `handle`.
        ///
        /// # Safety
        ///
        /// `handle` must be open, owned by nothing else, and need no cleanup but `CloseHandle`.
        unsafe fn from_raw_handle(handle: RawHandle) -> Self;
    }

    /// Gives up ownership of a handle.
    pub trait IntoRawHandle {
        /// Returns the raw handle; the caller now owns it.
        fn into_raw_handle(self) -> RawHandle;
    }

    impl AsHandle for OwnedHandle {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            // SAFETY: the handle stays open while `self` is borrowed.
            unsafe { BorrowedHandle::borrow_raw(self.handle) }
        }
    }

    impl AsHandle for BorrowedHandle<'_> {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            *self
        }
    }

    impl<T: AsHandle + ?Sized> AsHandle for &T {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            T::as_handle(self)
        }
    }

    impl<T: AsHandle + ?Sized> AsHandle for &mut T {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            T::as_handle(self)
        }
    }

    impl<T: AsHandle + ?Sized> AsHandle for Box<T> {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            T::as_handle(self)
        }
    }

    impl<T: AsHandle + ?Sized> AsHandle for Rc<T> {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            T::as_handle(self)
        }
    }

    impl<T: AsHandle + ?Sized> AsHandle for Arc<T> {
        fn as_handle(&self) -> BorrowedHandle<'_> {
            T::as_handle(self)
        }
    }

    impl AsRawHandle for OwnedHandle {
        fn as_raw_handle(&self) -> RawHandle {
            self.handle
        }
    }

    impl AsRawHandle for BorrowedHandle<'_> {
        fn as_raw_handle(&self) -> RawHandle {
            self.handle
        }
    }

    impl FromRawHandle for OwnedHandle {
        unsafe fn from_raw_handle(handle: RawHandle) -> Self {
            OwnedHandle { handle }
        }
    }

    impl IntoRawHandle for OwnedHandle {
        fn into_raw_handle(self) -> RawHandle {
            let handle = self.handle;
            core::mem::forget(self);
            handle
        }
    }
}

/// `path` as the NUL-terminated UTF-16 that `CreateFileW` takes: exactly its units on Windows;
/// elsewhere (the kernel32 model) its UTF-8 text, converted.
#[cfg(feature = "dbghelp")]
pub(crate) fn wide_path(path: &std::path::Path) -> Vec<u16> {
    #[cfg(windows)]
    let units: Vec<u16> = {
        use std::os::windows::ffi::OsStrExt;
        path.as_os_str().encode_wide().collect()
    };
    #[cfg(not(windows))]
    let units: Vec<u16> = path.to_string_lossy().encode_utf16().collect();
    units.into_iter().chain([0]).collect()
}

static_assertions::assert_impl_all!(OwnedHandle: Send, Sync, ProcessHandle);
static_assertions::assert_impl_all!(BorrowedHandle<'static>: Send, Sync, Copy, ProcessHandle);
