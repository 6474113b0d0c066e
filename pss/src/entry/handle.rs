//! `HandleEntry`: `PSS_HANDLE_ENTRY`, each part only where its `PSS_HANDLE_HAVE_*` flag says it
//! is valid, and the type-specific union as a Rust enum.

use core::fmt;
use core::marker::PhantomData;

use pss_sys as sys;

use super::{Copies, Kept, Part, RawEntry};
use crate::time::FileTime;
use crate::{ProcessFlags, WideStr};

bitflags::bitflags! {
    /// Which parts of a handle entry are valid: [`PSS_HANDLE_FLAGS`]. Unknown bits are kept.
    ///
    /// [`PSS_HANDLE_FLAGS`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_handle_flags
    #[doc(alias = "PSS_HANDLE_FLAGS")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct HandleFlags: u32 {
        /// `PSS_HANDLE_HAVE_TYPE`: `ObjectType` is valid.
        #[doc(alias = "PSS_HANDLE_HAVE_TYPE")]
        const HAVE_TYPE = sys::PSS_HANDLE_HAVE_TYPE as u32;
        /// `PSS_HANDLE_HAVE_NAME`: `ObjectName` is valid.
        #[doc(alias = "PSS_HANDLE_HAVE_NAME")]
        const HAVE_NAME = sys::PSS_HANDLE_HAVE_NAME as u32;
        /// `PSS_HANDLE_HAVE_BASIC_INFORMATION`: `Attributes`, `GrantedAccess`, `HandleCount`,
        /// `PointerCount`, `PagedPoolCharge` and `NonPagedPoolCharge` are valid.
        #[doc(alias = "PSS_HANDLE_HAVE_BASIC_INFORMATION")]
        const HAVE_BASIC_INFORMATION = sys::PSS_HANDLE_HAVE_BASIC_INFORMATION as u32;
        /// `PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION`: `TypeSpecificInformation` is valid.
        #[doc(alias = "PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION")]
        const HAVE_TYPE_SPECIFIC_INFORMATION = sys::PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION as u32;
    }
}

/// The type of object a handle refers to: [`PSS_OBJECT_TYPE`].
///
/// [`PSS_OBJECT_TYPE`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ne-processsnapshot-pss_object_type
#[doc(alias = "PSS_OBJECT_TYPE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    /// `PSS_OBJECT_TYPE_UNKNOWN`: a type PSS does not describe (e.g. files, keys); the
    /// [type name](HandleEntry::type_name) says which.
    #[doc(alias = "PSS_OBJECT_TYPE_UNKNOWN")]
    Unknown,
    /// `PSS_OBJECT_TYPE_PROCESS`.
    #[doc(alias = "PSS_OBJECT_TYPE_PROCESS")]
    Process,
    /// `PSS_OBJECT_TYPE_THREAD`.
    #[doc(alias = "PSS_OBJECT_TYPE_THREAD")]
    Thread,
    /// `PSS_OBJECT_TYPE_MUTANT`: a mutex.
    #[doc(alias = "PSS_OBJECT_TYPE_MUTANT")]
    Mutant,
    /// `PSS_OBJECT_TYPE_EVENT`.
    #[doc(alias = "PSS_OBJECT_TYPE_EVENT")]
    Event,
    /// `PSS_OBJECT_TYPE_SECTION`: a file mapping.
    #[doc(alias = "PSS_OBJECT_TYPE_SECTION")]
    Section,
    /// `PSS_OBJECT_TYPE_SEMAPHORE` (listed by the documents without a description).
    #[doc(alias = "PSS_OBJECT_TYPE_SEMAPHORE")]
    Semaphore,
    /// A value the documents do not list, kept as it was.
    Other(i32),
}

impl ObjectType {
    /// The type for a raw `PSS_OBJECT_TYPE` value.
    #[inline]
    pub fn from_raw(value: sys::PSS_OBJECT_TYPE) -> Self {
        match value {
            sys::PSS_OBJECT_TYPE_UNKNOWN => ObjectType::Unknown,
            sys::PSS_OBJECT_TYPE_PROCESS => ObjectType::Process,
            sys::PSS_OBJECT_TYPE_THREAD => ObjectType::Thread,
            sys::PSS_OBJECT_TYPE_MUTANT => ObjectType::Mutant,
            sys::PSS_OBJECT_TYPE_EVENT => ObjectType::Event,
            sys::PSS_OBJECT_TYPE_SECTION => ObjectType::Section,
            sys::PSS_OBJECT_TYPE_SEMAPHORE => ObjectType::Semaphore,
            other => ObjectType::Other(other),
        }
    }

    /// The raw `PSS_OBJECT_TYPE` value.
    #[inline]
    pub fn to_raw(self) -> sys::PSS_OBJECT_TYPE {
        match self {
            ObjectType::Unknown => sys::PSS_OBJECT_TYPE_UNKNOWN,
            ObjectType::Process => sys::PSS_OBJECT_TYPE_PROCESS,
            ObjectType::Thread => sys::PSS_OBJECT_TYPE_THREAD,
            ObjectType::Mutant => sys::PSS_OBJECT_TYPE_MUTANT,
            ObjectType::Event => sys::PSS_OBJECT_TYPE_EVENT,
            ObjectType::Section => sys::PSS_OBJECT_TYPE_SECTION,
            ObjectType::Semaphore => sys::PSS_OBJECT_TYPE_SEMAPHORE,
            ObjectType::Other(value) => value,
        }
    }
}

/// The basic information of a handle (`PSS_HANDLE_HAVE_BASIC_INFORMATION`): the six fields of
/// `PSS_HANDLE_ENTRY` that flag declares valid.
///
/// The structure's page calls all but `Attributes` "reserved for use by the operating system",
/// while the flag's page declares them valid; `pss` follows the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_HANDLE_HAVE_BASIC_INFORMATION")]
pub struct HandleBasicInformation {
    /// `Attributes`: the handle's attributes (e.g. `OBJ_INHERIT`).
    #[doc(alias = "Attributes")]
    pub attributes: u32,
    /// `GrantedAccess`: the access mask the handle was opened with.
    #[doc(alias = "GrantedAccess")]
    pub granted_access: u32,
    /// `HandleCount`: open handles to the object.
    #[doc(alias = "HandleCount")]
    pub handle_count: u32,
    /// `PointerCount`: references to the object.
    #[doc(alias = "PointerCount")]
    pub pointer_count: u32,
    /// `PagedPoolCharge`.
    #[doc(alias = "PagedPoolCharge")]
    pub paged_pool_charge: u32,
    /// `NonPagedPoolCharge`.
    #[doc(alias = "NonPagedPoolCharge")]
    pub non_paged_pool_charge: u32,
}

/// A process object (`TypeSpecificInformation.Process`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_PROCESS")]
pub struct ProcessObject {
    /// `ExitStatus` as written: `STILL_ACTIVE` (259) while running, but also for a process that
    /// exited with 259. This arm carries no exit time to tell them apart.
    #[doc(alias = "ExitStatus")]
    pub exit_status_raw: u32,
    /// `AffinityMask`.
    #[doc(alias = "AffinityMask")]
    pub affinity_mask: usize,
    /// `BasePriority`.
    #[doc(alias = "BasePriority")]
    pub base_priority: i32,
    /// `ProcessId`.
    #[doc(alias = "ProcessId")]
    pub process_id: u32,
    /// `ParentProcessId`.
    #[doc(alias = "ParentProcessId")]
    pub parent_process_id: u32,
    /// `Flags`.
    #[doc(alias = "Flags")]
    pub flags: ProcessFlags,
}

/// A thread object (`TypeSpecificInformation.Thread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_THREAD")]
pub struct ThreadObject {
    /// `ExitStatus` as written (`STILL_ACTIVE`, 259, while running; no exit time here to tell
    /// that from an exit with 259). The documents call it the process's exit code; it is the
    /// thread's.
    #[doc(alias = "ExitStatus")]
    pub exit_status_raw: u32,
    /// `ProcessId`: the process the thread belongs to.
    #[doc(alias = "ProcessId")]
    pub process_id: u32,
    /// `ThreadId`.
    #[doc(alias = "ThreadId")]
    pub thread_id: u32,
    /// `AffinityMask`.
    #[doc(alias = "AffinityMask")]
    pub affinity_mask: usize,
    /// `Priority`: the dynamic priority.
    #[doc(alias = "Priority")]
    pub priority: i32,
    /// `BasePriority`.
    #[doc(alias = "BasePriority")]
    pub base_priority: i32,
    /// `Win32StartAddress`: the thread procedure, an address in the owning process.
    #[doc(alias = "Win32StartAddress")]
    pub start_address: usize,
}

/// A mutant (mutex) object (`TypeSpecificInformation.Mutant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_MUTANT")]
pub struct MutantObject {
    /// `CurrentCount` ("reserved for use by the operating system").
    #[doc(alias = "CurrentCount")]
    pub current_count: i32,
    /// `Abandoned`: the owning thread exited without releasing the mutex.
    #[doc(alias = "Abandoned")]
    pub abandoned: bool,
    /// `OwnerProcessId`: the process of the owning thread, at capture time.
    #[doc(alias = "OwnerProcessId")]
    pub owner_process_id: u32,
    /// `OwnerThreadId`: the owning thread, at capture time (the documents call it "the
    /// process ID of the owning thread", a copy-paste slip).
    #[doc(alias = "OwnerThreadId")]
    pub owner_thread_id: u32,
}

/// An event object (`TypeSpecificInformation.Event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_EVENT")]
pub struct EventObject {
    /// `ManualReset`: a manual-reset (not auto-reset) event.
    #[doc(alias = "ManualReset")]
    pub manual_reset: bool,
    /// `Signaled`: signaled at capture time.
    #[doc(alias = "Signaled")]
    pub signaled: bool,
}

/// A section (file mapping) object (`TypeSpecificInformation.Section`). All three fields are
/// "reserved for use by the operating system".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_SECTION")]
pub struct SectionObject {
    /// `BaseAddress`.
    #[doc(alias = "BaseAddress")]
    pub base_address: usize,
    /// `AllocationAttributes` (`SEC_*`).
    #[doc(alias = "AllocationAttributes")]
    pub allocation_attributes: u32,
    /// `MaximumSize`, in bytes.
    #[doc(alias = "MaximumSize")]
    pub maximum_size: i64,
}

/// A semaphore object (`TypeSpecificInformation.Semaphore`; in the syntax block only, without
/// a description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[doc(alias = "PSS_OBJECT_TYPE_SEMAPHORE")]
pub struct SemaphoreObject {
    /// `CurrentCount`.
    #[doc(alias = "CurrentCount")]
    pub current_count: i32,
    /// `MaximumCount`.
    #[doc(alias = "MaximumCount")]
    pub maximum_count: i32,
}

/// `PSS_HANDLE_ENTRY.TypeSpecificInformation`: the union arm that matches the object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[doc(
    alias = "TypeSpecificInformation",
    alias = "PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION"
)]
pub enum TypeSpecific {
    /// `Process`.
    Process(ProcessObject),
    /// `Thread`.
    Thread(ThreadObject),
    /// `Mutant`.
    Mutant(MutantObject),
    /// `Event`.
    Event(EventObject),
    /// `Section`.
    Section(SectionObject),
    /// `Semaphore`.
    Semaphore(SemaphoreObject),
    /// The flag is set but the object type has no arm `pss` knows (unknown or a future type):
    /// nothing is read from the union.
    Unknown(ObjectType),
}

/// One captured handle: [`PSS_HANDLE_ENTRY`], from a [`HandleClass`](crate::HandleClass) walk.
///
/// Each part is returned only where the entry's [`HandleFlags`] say it is valid:
///
/// | part | needs | capture flag (as Windows fills it) |
/// |---|---|---|
/// | [`type_name`](Self::type_name) | `HAVE_TYPE` | `HANDLES` alone |
/// | [`object_type`](Self::object_type) | `HAVE_TYPE` | a value other than `Unknown` only with `HANDLE_TYPE_SPECIFIC_INFORMATION` |
/// | [`object_name`](Self::object_name) | `HAVE_NAME` | `HANDLE_NAME_INFORMATION` |
/// | [`basic_information`](Self::basic_information) | `HAVE_BASIC_INFORMATION` | `HANDLE_BASIC_INFORMATION` |
/// | [`type_specific`](Self::type_specific) | `HAVE_TYPE_SPECIFIC_INFORMATION` and `HAVE_TYPE` | `HANDLE_TYPE_SPECIFIC_INFORMATION` |
///
/// No documented flag covers `TypeName`: `pss` reads it only with `HAVE_TYPE`, which is how
/// Windows marks an entry whose type it read, rather than follow a pointer no flag vouches
/// for. `CreationTime` is reserved and covered by no flag either; it is only in
/// [`as_raw`](Self::as_raw).
///
/// # What Windows leaves out
///
/// - A handle the capture could not duplicate out of the process (the process handle lacked
///   `PROCESS_DUP_HANDLE`, or the object refused) has [`flags`](Self::flags) empty: only its
///   value and capture time are there.
/// - File objects never have a name, whatever the flags (Windows skips their name query, which
///   could block), nor do names longer than about 255 UTF-16 units.
/// - `HandleCount` and `PointerCount` include the capture's own temporary duplicate.
///
/// Names are counted UTF-16 read from the marker's memory ([`WideStr`], without the NUL
/// Windows counts in their length); object names are NT-namespace paths
/// (`\BaseNamedObjects\...`).
///
/// # Borrowed and owned
///
/// An entry from a walk is the structure kernel32 filled plus the lifetime `'w` of the walk:
/// its names stay in the marker's memory and are decoded only when an accessor asks, so
/// walking costs no more than the raw loop. [`into_owned`](Self::into_owned) copies them into
/// the entry and returns a `HandleEntry<'static>`.
///
/// [`PSS_HANDLE_ENTRY`]: https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/ns-processsnapshot-pss_handle_entry
#[doc(alias = "PSS_HANDLE_ENTRY")]
pub struct HandleEntry<'w> {
    raw: RawEntry<sys::PSS_HANDLE_ENTRY>,
    /// The names' copies in an owned entry (see [`Kept`]).
    kept: Kept,
    _marker: PhantomData<&'w [u16]>,
}

impl<'w> HandleEntry<'w> {
    /// # Safety
    ///
    /// `raw.TypeName` and `raw.ObjectName`, where their flags are set and they are non-NULL,
    /// point to their byte lengths of memory valid and unchanged for `'w`.
    /// The structure, for `PssWalkSnapshot` to fill in place.
    ///
    /// # Safety
    ///
    /// The entry keeps nothing of its own, and what is written is an entry whose pointers
    /// satisfy [`from_raw`](Self::from_raw)'s contract.
    #[inline]
    pub(crate) unsafe fn raw_mut(&mut self) -> &mut sys::PSS_HANDLE_ENTRY {
        &mut self.raw.0
    }

    #[inline]
    pub(crate) unsafe fn from_raw(raw: sys::PSS_HANDLE_ENTRY) -> Self {
        HandleEntry {
            raw: RawEntry(raw),
            kept: Kept::default(),
            _marker: PhantomData,
        }
    }

    /// True if both name pointers are aligned for `u16` (or NULL): then
    /// [`yielded`](Self::yielded) may make the entry [`Iterator::next`](crate::Entries)
    /// yields; otherwise [`align_names_at`](Self::align_names_at) first.
    #[inline(always)]
    pub(crate) fn names_aligned(raw: &sys::PSS_HANDLE_ENTRY) -> bool {
        raw.TypeName.is_aligned() && raw.ObjectName.is_aligned()
    }

    /// The entry [`Iterator::next`](crate::Entries) yields for a structure whose name pointers
    /// are aligned (or NULL), which the entry then tells the compiler.
    ///
    /// # Safety
    ///
    /// As [`from_raw`](Self::from_raw), and [`names_aligned`](Self::names_aligned) holds.
    #[inline(always)]
    pub(crate) unsafe fn yielded(raw: sys::PSS_HANDLE_ENTRY) -> Self {
        HandleEntry {
            raw: RawEntry(raw),
            kept: Kept::AlignedNames,
            _marker: PhantomData,
        }
    }

    /// Points each misaligned name pointer of the structure at `raw` (never seen from
    /// Windows) to an aligned copy `copies` keeps (see [`Copies`]), or to NULL where no
    /// accessor reads it, so that [`yielded`](Self::yielded) may take it. Reads and writes the
    /// structure through `raw` only (no reference to it is held while the copy allocates).
    ///
    /// # Safety
    ///
    /// `raw` points to a structure that satisfies [`from_raw`](Self::from_raw)'s contract for
    /// `'w`, which `copies` outlives, and is valid for reads and writes.
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn align_names_at(raw: *mut sys::PSS_HANDLE_ENTRY, copies: &'w Copies) {
        // SAFETY: readable, and a structure `from_raw` takes (the caller).
        let mut entry = unsafe { Self::from_raw(raw.read()) };
        // SAFETY: as above.
        unsafe { entry.align_names(copies) };
        // SAFETY: writable (the caller).
        unsafe { raw.write(entry.raw.0) };
    }

    /// Points each misaligned name pointer to an aligned copy `copies` keeps, or to NULL where
    /// no accessor reads it (its flag is not set).
    ///
    /// # Safety
    ///
    /// As [`align_names_at`](Self::align_names_at).
    unsafe fn align_names(&mut self, copies: &'w Copies) {
        let flags = self.flags();
        let r = &mut self.raw.0;
        // SAFETY: each name is read only under its flag, valid for its length for `'w` (the
        // caller), which `copies` outlives.
        unsafe {
            r.TypeName = copies.aligned(
                flags.contains(HandleFlags::HAVE_TYPE),
                r.TypeName,
                r.TypeNameLength,
            );
            r.ObjectName = copies.aligned(
                flags.contains(HandleFlags::HAVE_NAME),
                r.ObjectName,
                r.ObjectNameLength,
            );
        }
    }

    /// `Handle`: the handle's value in the captured process's handle table. It means nothing
    /// in this process: never use or close it here.
    #[doc(alias = "Handle")]
    #[inline]
    pub fn handle_value(&self) -> usize {
        self.raw.0.Handle.addr()
    }

    /// `Flags`: which parts are valid.
    #[doc(alias = "Flags")]
    #[inline]
    pub fn flags(&self) -> HandleFlags {
        HandleFlags::from_bits_retain(self.raw.0.Flags as u32)
    }

    /// `ObjectType`, with `PSS_HANDLE_HAVE_TYPE`; `None` without it. Windows fills in a value
    /// other than [`ObjectType::Unknown`] only when it captured type-specific information
    /// (`HANDLE_TYPE_SPECIFIC_INFORMATION`, for the six types PSS describes):
    /// [`type_name`](Self::type_name) names every type.
    #[doc(alias = "ObjectType")]
    #[inline]
    pub fn object_type(&self) -> Option<ObjectType> {
        self.flags()
            .contains(HandleFlags::HAVE_TYPE)
            .then(|| ObjectType::from_raw(self.raw.0.ObjectType))
    }

    /// `TypeName`, `TypeNameLength`: the object's type name (e.g. `File`, `Key`, `Event`), with
    /// `PSS_HANDLE_HAVE_TYPE`; `None` without it, and for a NULL or empty name (as every name
    /// accessor of `pss`).
    #[doc(alias = "TypeName", alias = "TypeNameLength")]
    #[inline]
    pub fn type_name(&self) -> Option<WideStr<'_>> {
        if !self.flags().contains(HandleFlags::HAVE_TYPE) {
            return None;
        }
        // SAFETY: flagged; the name is valid for `'w`, or kept by `self` (see `Kept`), so for
        // as long as `self` is borrowed. An empty name is no name, as for every name accessor.
        unsafe {
            WideStr::from_counted(
                self.raw.0.TypeName,
                self.raw.0.TypeNameLength,
                self.kept.names_aligned(),
            )
        }
        .filter(|name| !name.is_empty())
    }

    /// `ObjectName`, `ObjectNameLength`: the object's name, with `PSS_HANDLE_HAVE_NAME`;
    /// `None` without it (unnamed objects, or names not captured).
    #[doc(alias = "ObjectName", alias = "ObjectNameLength")]
    #[inline]
    pub fn object_name(&self) -> Option<WideStr<'_>> {
        if !self.flags().contains(HandleFlags::HAVE_NAME) {
            return None;
        }
        // SAFETY: flagged; valid for as long as `self` is borrowed (as in `type_name`). An
        // empty name is no name.
        unsafe {
            WideStr::from_counted(
                self.raw.0.ObjectName,
                self.raw.0.ObjectNameLength,
                self.kept.names_aligned(),
            )
        }
        .filter(|name| !name.is_empty())
    }

    /// `CaptureTime`: when this handle was captured; `None` if not set.
    #[doc(alias = "CaptureTime")]
    #[inline]
    pub fn capture_time(&self) -> Option<FileTime> {
        FileTime::from_raw(self.raw.0.CaptureTime)
    }

    /// `Attributes` .. `NonPagedPoolCharge`, with `PSS_HANDLE_HAVE_BASIC_INFORMATION`; `None`
    /// without it.
    #[doc(
        alias = "GrantedAccess",
        alias = "HandleCount",
        alias = "PointerCount",
        alias = "Attributes"
    )]
    #[inline]
    pub fn basic_information(&self) -> Option<HandleBasicInformation> {
        let r = &self.raw.0;
        self.flags()
            .contains(HandleFlags::HAVE_BASIC_INFORMATION)
            .then_some(HandleBasicInformation {
                attributes: r.Attributes,
                granted_access: r.GrantedAccess,
                handle_count: r.HandleCount,
                pointer_count: r.PointerCount,
                paged_pool_charge: r.PagedPoolCharge,
                non_paged_pool_charge: r.NonPagedPoolCharge,
            })
    }

    /// `TypeSpecificInformation`: the union arm for `ObjectType`, with
    /// `PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION` and `PSS_HANDLE_HAVE_TYPE` (the arm is
    /// chosen by the type); `None` without them. A type without a known arm gives
    /// [`TypeSpecific::Unknown`].
    #[doc(alias = "TypeSpecificInformation")]
    #[inline]
    pub fn type_specific(&self) -> Option<TypeSpecific> {
        let needed = HandleFlags::HAVE_TYPE | HandleFlags::HAVE_TYPE_SPECIFIC_INFORMATION;
        if !self.flags().contains(needed) {
            return None;
        }
        let info = &self.raw.0.TypeSpecificInformation;
        let object_type = ObjectType::from_raw(self.raw.0.ObjectType);
        // Each arm below is read only when the flags say the union holds the arm of
        // `ObjectType`; every arm is plain integers and pointers, valid for any bytes, and no
        // pointer is dereferenced.
        Some(match object_type {
            ObjectType::Process => {
                let p =
                    // SAFETY: the `Process` arm, flagged valid (see above).
                    unsafe { info.Process };
                TypeSpecific::Process(ProcessObject {
                    exit_status_raw: p.ExitStatus,
                    affinity_mask: p.AffinityMask,
                    base_priority: p.BasePriority,
                    process_id: p.ProcessId,
                    parent_process_id: p.ParentProcessId,
                    flags: ProcessFlags::from_bits_retain(p.Flags),
                })
            }
            ObjectType::Thread => {
                let t =
                    // SAFETY: the `Thread` arm, flagged valid (see above).
                    unsafe { info.Thread };
                TypeSpecific::Thread(ThreadObject {
                    exit_status_raw: t.ExitStatus,
                    process_id: t.ProcessId,
                    thread_id: t.ThreadId,
                    affinity_mask: t.AffinityMask,
                    priority: t.Priority,
                    base_priority: t.BasePriority,
                    start_address: t.Win32StartAddress.addr(),
                })
            }
            ObjectType::Mutant => {
                let m =
                    // SAFETY: the `Mutant` arm, flagged valid (see above).
                    unsafe { info.Mutant };
                TypeSpecific::Mutant(MutantObject {
                    current_count: m.CurrentCount,
                    abandoned: m.Abandoned != 0,
                    owner_process_id: m.OwnerProcessId,
                    owner_thread_id: m.OwnerThreadId,
                })
            }
            ObjectType::Event => {
                let e =
                    // SAFETY: the `Event` arm, flagged valid (see above).
                    unsafe { info.Event };
                TypeSpecific::Event(EventObject {
                    manual_reset: e.ManualReset != 0,
                    signaled: e.Signaled != 0,
                })
            }
            ObjectType::Section => {
                let s =
                    // SAFETY: the `Section` arm, flagged valid (see above).
                    unsafe { info.Section };
                TypeSpecific::Section(SectionObject {
                    base_address: s.BaseAddress.addr(),
                    allocation_attributes: s.AllocationAttributes,
                    maximum_size: s.MaximumSize,
                })
            }
            ObjectType::Semaphore => {
                let s =
                    // SAFETY: the `Semaphore` arm, flagged valid (see above).
                    unsafe { info.Semaphore };
                TypeSpecific::Semaphore(SemaphoreObject {
                    current_count: s.CurrentCount,
                    maximum_count: s.MaximumCount,
                })
            }
            other @ (ObjectType::Unknown | ObjectType::Other(_)) => TypeSpecific::Unknown(other),
        })
    }

    /// A copy that keeps its own names.
    fn copy_parts(&self) -> HandleEntry<'static> {
        let mut raw = self.raw;
        let r = &mut raw.0;
        let flags = self.flags();
        let part = |flag, ptr: *const u16, len: u16| Part {
            ptr: if flags.contains(flag) {
                ptr.cast()
            } else {
                core::ptr::null()
            },
            len: usize::from(len),
        };
        let parts = [
            part(HandleFlags::HAVE_TYPE, r.TypeName, r.TypeNameLength),
            part(HandleFlags::HAVE_NAME, r.ObjectName, r.ObjectNameLength),
        ];
        // SAFETY: only flagged names, each valid for its length while `self` is borrowed.
        let (kept, [type_name, object_name]) = unsafe { Kept::copy(parts) };
        r.TypeName = type_name.cast();
        r.ObjectName = object_name.cast();
        if type_name.is_null() {
            r.TypeNameLength = 0;
        }
        if object_name.is_null() {
            r.ObjectNameLength = 0;
        }
        HandleEntry {
            raw,
            kept,
            _marker: PhantomData,
        }
    }

    /// The structure as the OS wrote it. Its name pointers point into the marker's memory
    /// (valid while the entry borrows it) or, in an owned entry, to the entry's own copies
    /// (valid while it lives); each field is valid only under its flag. In the copy a `for`
    /// loop yields, a name pointer the OS wrote misaligned (never seen from Windows) points to
    /// an aligned copy the walk keeps (see [`Entries`](crate::Entries)), or is NULL where its
    /// flag is not set.
    #[inline]
    pub fn as_raw(&self) -> &sys::PSS_HANDLE_ENTRY {
        &self.raw.0
    }
}

super::owned_entry!(
    HandleEntry,
    "An owned copy: both names (where flagged) are copied into the entry, and its raw \
     `TypeName` and `ObjectName` point to the copies (NULL where there is none). Owned \
     already: no copy.",
    "A borrowed entry copies the structure; an owned one its names too."
);

impl fmt::Debug for HandleEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleEntry")
            .field("handle_value", &format_args!("{:#x}", self.handle_value()))
            .field("flags", &self.flags())
            .field("object_type", &self.object_type())
            .field("type_name", &self.type_name())
            .field("object_name", &self.object_name())
            .field("basic_information", &self.basic_information())
            .field("type_specific", &self.type_specific())
            .finish()
    }
}
