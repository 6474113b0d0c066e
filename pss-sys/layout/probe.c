/*
 * Layout probe for pss-sys: the PSS structures declared in C from Microsoft's documentation
 * (the ns-processsnapshot-pss_* pages on learn.microsoft.com), not from the Rust bindings and not
 * from mingw-w64's processsnapshot.h.
 *
 * `cargo xtask layout` compiles this file with the mingw-w64 compilers for i686 and x86_64 and
 * with clang for aarch64 (aarch64-w64-mingw32; nothing is executed), reads the `.pss_layout`
 * section out of each COFF object file and writes what it finds to `pss-sys/src/layout.rs`,
 * where every number becomes a compile-time assertion against the generated bindings.
 *
 * Every record is 128 bytes: a NUL-padded 124-byte key and a little-endian 32-bit value.
 * Keys: `Struct#size`, `Struct#align`, `Struct.field.path` (offset from the start of Struct).
 */
#include <stddef.h>
#include <windows.h>

/* Enumerations are C enums: 32-bit signed integers on every Windows ABI. */
typedef enum { PSS_PROCESS_FLAGS_NONE = 0 } PSS_PROCESS_FLAGS;
typedef enum { PSS_HANDLE_NONE = 0 } PSS_HANDLE_FLAGS;
typedef enum { PSS_OBJECT_TYPE_UNKNOWN = 0 } PSS_OBJECT_TYPE;
typedef enum { PSS_THREAD_FLAGS_NONE = 0 } PSS_THREAD_FLAGS;

typedef struct {
    DWORD ExitStatus;
    void *PebBaseAddress;
    ULONG_PTR AffinityMask;
    LONG BasePriority;
    DWORD ProcessId;
    DWORD ParentProcessId;
    PSS_PROCESS_FLAGS Flags;
    FILETIME CreateTime;
    FILETIME ExitTime;
    FILETIME KernelTime;
    FILETIME UserTime;
    DWORD PriorityClass;
    ULONG_PTR PeakVirtualSize;
    ULONG_PTR VirtualSize;
    DWORD PageFaultCount;
    ULONG_PTR PeakWorkingSetSize;
    ULONG_PTR WorkingSetSize;
    ULONG_PTR QuotaPeakPagedPoolUsage;
    ULONG_PTR QuotaPagedPoolUsage;
    ULONG_PTR QuotaPeakNonPagedPoolUsage;
    ULONG_PTR QuotaNonPagedPoolUsage;
    ULONG_PTR PagefileUsage;
    ULONG_PTR PeakPagefileUsage;
    ULONG_PTR PrivateUsage;
    DWORD ExecuteFlags;
    wchar_t ImageFileName[MAX_PATH];
} PSS_PROCESS_INFORMATION;

typedef struct { HANDLE VaCloneHandle; } PSS_VA_CLONE_INFORMATION;
typedef struct { DWORD AuxPagesCaptured; } PSS_AUXILIARY_PAGES_INFORMATION;
typedef struct { DWORD RegionCount; } PSS_VA_SPACE_INFORMATION;
typedef struct { DWORD HandlesCaptured; } PSS_HANDLE_INFORMATION;
typedef struct { DWORD ThreadsCaptured; DWORD ContextLength; } PSS_THREAD_INFORMATION;
typedef struct { HANDLE SectionHandle; DWORD Size; } PSS_HANDLE_TRACE_INFORMATION;

typedef struct {
    UINT64 TotalCycleCount;
    UINT64 TotalWallClockPeriod;
    UINT64 VaCloneCycleCount;
    UINT64 VaCloneWallClockPeriod;
    UINT64 VaSpaceCycleCount;
    UINT64 VaSpaceWallClockPeriod;
    UINT64 AuxPagesCycleCount;
    UINT64 AuxPagesWallClockPeriod;
    UINT64 HandlesCycleCount;
    UINT64 HandlesWallClockPeriod;
    UINT64 ThreadsCycleCount;
    UINT64 ThreadsWallClockPeriod;
} PSS_PERFORMANCE_COUNTERS;

typedef struct {
    void *Address;
    MEMORY_BASIC_INFORMATION BasicInformation;
    FILETIME CaptureTime;
    void *PageContents;
    DWORD PageSize;
} PSS_AUXILIARY_PAGE_ENTRY;

typedef struct {
    void *BaseAddress;
    void *AllocationBase;
    DWORD AllocationProtect;
    ULONG_PTR RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
    DWORD TimeDateStamp;
    DWORD SizeOfImage;
    void *ImageBase;
    DWORD CheckSum;
    WORD MappedFileNameLength;
    const wchar_t *MappedFileName;
} PSS_VA_SPACE_ENTRY;

typedef struct {
    HANDLE Handle;
    PSS_HANDLE_FLAGS Flags;
    PSS_OBJECT_TYPE ObjectType;
    FILETIME CaptureTime;
    DWORD Attributes;
    DWORD GrantedAccess;
    DWORD HandleCount;
    DWORD PointerCount;
    DWORD PagedPoolCharge;
    DWORD NonPagedPoolCharge;
    FILETIME CreationTime;
    WORD TypeNameLength;
    const wchar_t *TypeName;
    WORD ObjectNameLength;
    const wchar_t *ObjectName;
    union {
        struct {
            DWORD ExitStatus;
            void *PebBaseAddress;
            ULONG_PTR AffinityMask;
            LONG BasePriority;
            DWORD ProcessId;
            DWORD ParentProcessId;
            DWORD Flags;
        } Process;
        struct {
            DWORD ExitStatus;
            void *TebBaseAddress;
            DWORD ProcessId;
            DWORD ThreadId;
            ULONG_PTR AffinityMask;
            int Priority;
            int BasePriority;
            void *Win32StartAddress;
        } Thread;
        struct {
            LONG CurrentCount;
            BOOL Abandoned;
            DWORD OwnerProcessId;
            DWORD OwnerThreadId;
        } Mutant;
        struct {
            BOOL ManualReset;
            BOOL Signaled;
        } Event;
        struct {
            void *BaseAddress;
            DWORD AllocationAttributes;
            LARGE_INTEGER MaximumSize;
        } Section;
        struct {
            LONG CurrentCount;
            LONG MaximumCount;
        } Semaphore;
    } TypeSpecificInformation;
} PSS_HANDLE_ENTRY;

typedef struct {
    DWORD ExitStatus;
    void *TebBaseAddress;
    DWORD ProcessId;
    DWORD ThreadId;
    ULONG_PTR AffinityMask;
    int Priority;
    int BasePriority;
    void *LastSyscallFirstArgument;
    WORD LastSyscallNumber;
    FILETIME CreateTime;
    FILETIME ExitTime;
    FILETIME KernelTime;
    FILETIME UserTime;
    void *Win32StartAddress;
    FILETIME CaptureTime;
    PSS_THREAD_FLAGS Flags;
    WORD SuspendCount;
    WORD SizeOfContextRecord;
    PCONTEXT ContextRecord;
} PSS_THREAD_ENTRY;

typedef struct {
    void *Context;
    void *(WINAPI *AllocRoutine)(void *Context, DWORD Size);
    void (WINAPI *FreeRoutine)(void *Context, void *Address);
} PSS_ALLOCATOR;

struct record { char key[124]; unsigned int value; };

/* SDK 10.0.26100.2161 (ProcessSnapshot.h in microsoft/win32metadata), not in mingw-w64. */
typedef struct {
    WORD ThreadNameSize;
    wchar_t const *ThreadName; /* valid for life time of walk marker */
} PSS_THREAD_NAME;

#define SIZE(T) { #T "#size", sizeof(T) }, { #T "#align", _Alignof(T) }
#define OFF(T, path) { #T "." #path, offsetof(T, path) }

__attribute__((section(".pss_layout"), used)) const struct record pss_layout[] = {
    SIZE(PSS_PROCESS_INFORMATION),
    OFF(PSS_PROCESS_INFORMATION, ExitStatus),
    OFF(PSS_PROCESS_INFORMATION, PebBaseAddress),
    OFF(PSS_PROCESS_INFORMATION, AffinityMask),
    OFF(PSS_PROCESS_INFORMATION, BasePriority),
    OFF(PSS_PROCESS_INFORMATION, ProcessId),
    OFF(PSS_PROCESS_INFORMATION, ParentProcessId),
    OFF(PSS_PROCESS_INFORMATION, Flags),
    OFF(PSS_PROCESS_INFORMATION, CreateTime),
    OFF(PSS_PROCESS_INFORMATION, ExitTime),
    OFF(PSS_PROCESS_INFORMATION, KernelTime),
    OFF(PSS_PROCESS_INFORMATION, UserTime),
    OFF(PSS_PROCESS_INFORMATION, PriorityClass),
    OFF(PSS_PROCESS_INFORMATION, PeakVirtualSize),
    OFF(PSS_PROCESS_INFORMATION, VirtualSize),
    OFF(PSS_PROCESS_INFORMATION, PageFaultCount),
    OFF(PSS_PROCESS_INFORMATION, PeakWorkingSetSize),
    OFF(PSS_PROCESS_INFORMATION, WorkingSetSize),
    OFF(PSS_PROCESS_INFORMATION, QuotaPeakPagedPoolUsage),
    OFF(PSS_PROCESS_INFORMATION, QuotaPagedPoolUsage),
    OFF(PSS_PROCESS_INFORMATION, QuotaPeakNonPagedPoolUsage),
    OFF(PSS_PROCESS_INFORMATION, QuotaNonPagedPoolUsage),
    OFF(PSS_PROCESS_INFORMATION, PagefileUsage),
    OFF(PSS_PROCESS_INFORMATION, PeakPagefileUsage),
    OFF(PSS_PROCESS_INFORMATION, PrivateUsage),
    OFF(PSS_PROCESS_INFORMATION, ExecuteFlags),
    OFF(PSS_PROCESS_INFORMATION, ImageFileName),

    SIZE(PSS_VA_CLONE_INFORMATION),
    OFF(PSS_VA_CLONE_INFORMATION, VaCloneHandle),

    SIZE(PSS_AUXILIARY_PAGES_INFORMATION),
    OFF(PSS_AUXILIARY_PAGES_INFORMATION, AuxPagesCaptured),

    SIZE(PSS_VA_SPACE_INFORMATION),
    OFF(PSS_VA_SPACE_INFORMATION, RegionCount),

    SIZE(PSS_HANDLE_INFORMATION),
    OFF(PSS_HANDLE_INFORMATION, HandlesCaptured),

    SIZE(PSS_THREAD_INFORMATION),
    OFF(PSS_THREAD_INFORMATION, ThreadsCaptured),
    OFF(PSS_THREAD_INFORMATION, ContextLength),

    SIZE(PSS_HANDLE_TRACE_INFORMATION),
    OFF(PSS_HANDLE_TRACE_INFORMATION, SectionHandle),
    OFF(PSS_HANDLE_TRACE_INFORMATION, Size),

    SIZE(PSS_PERFORMANCE_COUNTERS),
    OFF(PSS_PERFORMANCE_COUNTERS, TotalCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, TotalWallClockPeriod),
    OFF(PSS_PERFORMANCE_COUNTERS, VaCloneCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, VaCloneWallClockPeriod),
    OFF(PSS_PERFORMANCE_COUNTERS, VaSpaceCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, VaSpaceWallClockPeriod),
    OFF(PSS_PERFORMANCE_COUNTERS, AuxPagesCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, AuxPagesWallClockPeriod),
    OFF(PSS_PERFORMANCE_COUNTERS, HandlesCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, HandlesWallClockPeriod),
    OFF(PSS_PERFORMANCE_COUNTERS, ThreadsCycleCount),
    OFF(PSS_PERFORMANCE_COUNTERS, ThreadsWallClockPeriod),

    SIZE(PSS_AUXILIARY_PAGE_ENTRY),
    OFF(PSS_AUXILIARY_PAGE_ENTRY, Address),
    OFF(PSS_AUXILIARY_PAGE_ENTRY, BasicInformation),
    OFF(PSS_AUXILIARY_PAGE_ENTRY, CaptureTime),
    OFF(PSS_AUXILIARY_PAGE_ENTRY, PageContents),
    OFF(PSS_AUXILIARY_PAGE_ENTRY, PageSize),

    SIZE(PSS_VA_SPACE_ENTRY),
    OFF(PSS_VA_SPACE_ENTRY, BaseAddress),
    OFF(PSS_VA_SPACE_ENTRY, AllocationBase),
    OFF(PSS_VA_SPACE_ENTRY, AllocationProtect),
    OFF(PSS_VA_SPACE_ENTRY, RegionSize),
    OFF(PSS_VA_SPACE_ENTRY, State),
    OFF(PSS_VA_SPACE_ENTRY, Protect),
    OFF(PSS_VA_SPACE_ENTRY, Type),
    OFF(PSS_VA_SPACE_ENTRY, TimeDateStamp),
    OFF(PSS_VA_SPACE_ENTRY, SizeOfImage),
    OFF(PSS_VA_SPACE_ENTRY, ImageBase),
    OFF(PSS_VA_SPACE_ENTRY, CheckSum),
    OFF(PSS_VA_SPACE_ENTRY, MappedFileNameLength),
    OFF(PSS_VA_SPACE_ENTRY, MappedFileName),

    SIZE(PSS_HANDLE_ENTRY),
    OFF(PSS_HANDLE_ENTRY, Handle),
    OFF(PSS_HANDLE_ENTRY, Flags),
    OFF(PSS_HANDLE_ENTRY, ObjectType),
    OFF(PSS_HANDLE_ENTRY, CaptureTime),
    OFF(PSS_HANDLE_ENTRY, Attributes),
    OFF(PSS_HANDLE_ENTRY, GrantedAccess),
    OFF(PSS_HANDLE_ENTRY, HandleCount),
    OFF(PSS_HANDLE_ENTRY, PointerCount),
    OFF(PSS_HANDLE_ENTRY, PagedPoolCharge),
    OFF(PSS_HANDLE_ENTRY, NonPagedPoolCharge),
    OFF(PSS_HANDLE_ENTRY, CreationTime),
    OFF(PSS_HANDLE_ENTRY, TypeNameLength),
    OFF(PSS_HANDLE_ENTRY, TypeName),
    OFF(PSS_HANDLE_ENTRY, ObjectNameLength),
    OFF(PSS_HANDLE_ENTRY, ObjectName),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.ExitStatus),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.PebBaseAddress),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.AffinityMask),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.BasePriority),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.ProcessId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.ParentProcessId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Process.Flags),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.ExitStatus),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.TebBaseAddress),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.ProcessId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.ThreadId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.AffinityMask),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.Priority),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.BasePriority),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.Win32StartAddress),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Mutant.CurrentCount),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Mutant.Abandoned),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Mutant.OwnerProcessId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Mutant.OwnerThreadId),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Event.ManualReset),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Event.Signaled),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.BaseAddress),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.AllocationAttributes),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.MaximumSize),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Semaphore.CurrentCount),
    OFF(PSS_HANDLE_ENTRY, TypeSpecificInformation.Semaphore.MaximumCount),

    SIZE(PSS_THREAD_NAME),
    OFF(PSS_THREAD_NAME, ThreadNameSize),
    OFF(PSS_THREAD_NAME, ThreadName),
    SIZE(PSS_THREAD_ENTRY),
    OFF(PSS_THREAD_ENTRY, ExitStatus),
    OFF(PSS_THREAD_ENTRY, TebBaseAddress),
    OFF(PSS_THREAD_ENTRY, ProcessId),
    OFF(PSS_THREAD_ENTRY, ThreadId),
    OFF(PSS_THREAD_ENTRY, AffinityMask),
    OFF(PSS_THREAD_ENTRY, Priority),
    OFF(PSS_THREAD_ENTRY, BasePriority),
    OFF(PSS_THREAD_ENTRY, LastSyscallFirstArgument),
    OFF(PSS_THREAD_ENTRY, LastSyscallNumber),
    OFF(PSS_THREAD_ENTRY, CreateTime),
    OFF(PSS_THREAD_ENTRY, ExitTime),
    OFF(PSS_THREAD_ENTRY, KernelTime),
    OFF(PSS_THREAD_ENTRY, UserTime),
    OFF(PSS_THREAD_ENTRY, Win32StartAddress),
    OFF(PSS_THREAD_ENTRY, CaptureTime),
    OFF(PSS_THREAD_ENTRY, Flags),
    OFF(PSS_THREAD_ENTRY, SuspendCount),
    OFF(PSS_THREAD_ENTRY, SizeOfContextRecord),
    OFF(PSS_THREAD_ENTRY, ContextRecord),

    SIZE(PSS_ALLOCATOR),
    OFF(PSS_ALLOCATOR, Context),
    OFF(PSS_ALLOCATOR, AllocRoutine),
    OFF(PSS_ALLOCATOR, FreeRoutine),
};
