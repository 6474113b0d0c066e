/*
 * A stand-in for bcryptprimitives.dll under Wine 8, which lacks the ProcessPrng export that
 * Rust's standard library (1.78 and later) imports on Windows. `cargo xtask wine` builds it
 * with mingw-w64 into a private WINEPREFIX under target/; it is never shipped.
 *
 * BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData): fills the buffer, always returns TRUE
 * (as documented). RtlGenRandom (advapi32!SystemFunction036) does the work.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
