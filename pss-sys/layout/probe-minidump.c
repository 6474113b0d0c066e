/*
 * Layout probe for pss-sys's `minidump` module: the parts of dbghelp's callback structures that
 * `pss` builds or reads, declared in C from Microsoft's minidumpapiset.h (as published with the
 * Windows SDK and on learn.microsoft.com), under the `#pragma pack(4)` that header applies.
 * Compiled and read like probe.c (see there).
 *
 * Only the fields `pss` touches are declared and asserted: `MINIDUMP_CALLBACK_INFORMATION`
 * whole (pss builds it), the header of `MINIDUMP_CALLBACK_INPUT` (pss reads `CallbackType`) and
 * the `Status` member of `MINIDUMP_CALLBACK_OUTPUT` (pss writes it). The two callback structures
 * are reached only through pointers dbghelp passes, and their full sizes depend on how a
 * compiler places the 16-byte-aligned x64 `CONTEXT` inside `#pragma pack(4)`, where compilers
 * differ; their sizes are therefore not asserted. Member names follow the generated bindings
 * (`Anonymous` for the nameless unions) so the keys are Rust field paths.
 */
#include <stddef.h>
#include <windows.h>

#pragma pack(push, 4)

typedef BOOL(WINAPI *MINIDUMP_CALLBACK_ROUTINE)(PVOID CallbackParam, PVOID CallbackInput,
                                                PVOID CallbackOutput);

typedef struct {
    MINIDUMP_CALLBACK_ROUTINE CallbackRoutine;
    PVOID CallbackParam;
} MINIDUMP_CALLBACK_INFORMATION;

typedef struct {
    ULONG ProcessId;
    HANDLE ProcessHandle;
    ULONG CallbackType;
    union {
        HRESULT Status;
    } Anonymous;
} MINIDUMP_CALLBACK_INPUT;

typedef struct {
    union {
        ULONG ModuleWriteFlags;
        HRESULT Status;
    } Anonymous;
} MINIDUMP_CALLBACK_OUTPUT;

#pragma pack(pop)

struct record {
    char key[124];
    unsigned int value;
};

#define SIZE(T) { #T "#size", sizeof(T) }, { #T "#align", _Alignof(T) }
#define OFF(T, path) { #T "." #path, offsetof(T, path) }

__attribute__((section(".pss_layout"), used)) const struct record pss_layout[] = {
    SIZE(MINIDUMP_CALLBACK_INFORMATION),
    OFF(MINIDUMP_CALLBACK_INFORMATION, CallbackRoutine),
    OFF(MINIDUMP_CALLBACK_INFORMATION, CallbackParam),

    OFF(MINIDUMP_CALLBACK_INPUT, ProcessId),
    OFF(MINIDUMP_CALLBACK_INPUT, ProcessHandle),
    OFF(MINIDUMP_CALLBACK_INPUT, CallbackType),
    OFF(MINIDUMP_CALLBACK_INPUT, Anonymous.Status),

    OFF(MINIDUMP_CALLBACK_OUTPUT, Anonymous.Status),
};
