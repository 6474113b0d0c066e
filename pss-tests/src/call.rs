//! [`Call`]: the kernel32 (and dbghelp) functions the kit counts and injects faults into, by
//! name, checked by the compiler.

use core::fmt;

macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident,)+) => {
        /// A kernel32 function (or dbghelp's `MiniDumpWriteDump`) that `pss` calls and the kit
        /// can name: in call counts ([`expect::calls`](crate::expect::calls), and off Windows
        /// `model::call_count`) and in fault plans (`model::faults`). Named as in C.
        ///
        /// The compiler checks the name where a string could be misspelt and count nothing:
        ///
        /// ```
        /// use pss_tests::Call;
        ///
        /// assert_eq!(Call::PssFreeSnapshot.name(), "PssFreeSnapshot");
        /// assert_eq!(Call::from_name("PssFreeSnapshot"), Some(Call::PssFreeSnapshot));
        /// assert_eq!(Call::from_name("PssFreeSnapshots"), None);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Call {
            $($(#[$doc])* $name,)+
        }

        impl Call {
            /// Every function, in declaration order.
            pub const ALL: &'static [Call] = &[$(Call::$name,)+];

            /// The C name, e.g. `"PssFreeSnapshot"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Call::$name => stringify!($name),)+
                }
            }

            /// The function of that C name, `None` for a name no `Call` has.
            pub fn from_name(name: &str) -> Option<Call> {
                Call::ALL.iter().copied().find(|call| call.name() == name)
            }
        }
    };
}

calls! {
    /// [`PssCaptureSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psscapturesnapshot)
    PssCaptureSnapshot,
    /// [`PssDuplicateSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssduplicatesnapshot)
    PssDuplicateSnapshot,
    /// [`PssFreeSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssfreesnapshot)
    PssFreeSnapshot,
    /// [`PssQuerySnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-pssquerysnapshot)
    PssQuerySnapshot,
    /// [`PssWalkSnapshot`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalksnapshot)
    PssWalkSnapshot,
    /// [`PssWalkMarkerCreate`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkercreate)
    PssWalkMarkerCreate,
    /// [`PssWalkMarkerFree`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerfree)
    PssWalkMarkerFree,
    /// [`PssWalkMarkerGetPosition`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkergetposition)
    PssWalkMarkerGetPosition,
    /// [`PssWalkMarkerSetPosition`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkersetposition)
    PssWalkMarkerSetPosition,
    /// [`PssWalkMarkerSeekToBeginning`](https://learn.microsoft.com/en-us/windows/win32/api/processsnapshot/nf-processsnapshot-psswalkmarkerseektobeginning)
    PssWalkMarkerSeekToBeginning,
    /// [`GetCurrentProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocess)
    GetCurrentProcess,
    /// [`GetCurrentProcessId`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getcurrentprocessid)
    GetCurrentProcessId,
    /// [`GetProcessId`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getprocessid)
    GetProcessId,
    /// [`GetExitCodeProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-getexitcodeprocess)
    GetExitCodeProcess,
    /// [`OpenProcess`](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess)
    OpenProcess,
    /// [`CloseHandle`](https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-closehandle)
    CloseHandle,
    /// [`DuplicateHandle`](https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-duplicatehandle)
    DuplicateHandle,
    /// [`GetLastError`](https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-getlasterror)
    GetLastError,
    /// [`GetModuleHandleW`](https://learn.microsoft.com/en-us/windows/win32/api/libloaderapi/nf-libloaderapi-getmodulehandlew)
    GetModuleHandleW,
    /// [`GetProcAddress`](https://learn.microsoft.com/en-us/windows/win32/api/libloaderapi/nf-libloaderapi-getprocaddress)
    GetProcAddress,
    /// [`ReadProcessMemory`](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-readprocessmemory)
    ReadProcessMemory,
    /// [`CreateMutexA`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-createmutexa)
    CreateMutexA,
    /// [`WaitForSingleObjectEx`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-waitforsingleobjectex)
    WaitForSingleObjectEx,
    /// [`ReleaseMutex`](https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-releasemutex)
    ReleaseMutex,
    /// [`CreateFileW`](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-createfilew)
    CreateFileW,
    /// [`FormatMessageW`](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-formatmessagew)
    FormatMessageW,
    /// dbghelp's [`MiniDumpWriteDump`](https://learn.microsoft.com/en-us/windows/win32/api/minidumpapiset/nf-minidumpapiset-minidumpwritedump)
    MiniDumpWriteDump,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
