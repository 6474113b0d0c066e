//! `WideStr`: a counted UTF-16 string as PSS returns names and paths.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::string::FromUtf16Error;

/// A UTF-16 string from a snapshot, exactly as the OS gave it: an object or type name, a
/// mapped file path, the process image name.
///
/// PSS returns names as counted UTF-16 (`WCHAR` units, with a length in bytes) that "may not be
/// terminated by a NULL character", and they need not be valid UTF-16. `WideStr` keeps the
/// units unchanged and offers both conversions:
///
/// - lossless: [`as_utf16`](Self::as_utf16) (the units), [`to_os_string`](Self::to_os_string)
///   and [`to_path_buf`](Self::to_path_buf) (on Windows), and
///   [`try_to_string`](Self::try_to_string) (`Err` for unpaired surrogates);
/// - lossy: [`to_string_lossy`](Self::to_string_lossy), and [`display`](Self::display), which
///   writes U+FFFD for unpaired surrogates without allocating. Like [`Path`](std::path::Path)
///   and [`OsStr`](std::ffi::OsStr), `WideStr` itself is not [`Display`](fmt::Display): a
///   `to_string()` would be silently lossy.
///
/// # Borrowed and owned
///
/// A `WideStr<'w>` from a walk entry borrows memory owned by the walk marker, for as long as
/// the documents guarantee it (`'w`, the marker's life). [`into_owned`](Self::into_owned) copies
/// it into a `WideStr<'static>`.
///
/// # What the length means
///
/// - Counted names (walk entries): the byte count is cut to whole units (an odd trailing byte
///   is dropped). Windows stores handle type and object names and mapped file names with a
///   terminating NUL *and counts it* in the length; the Microsoft pages say the strings "may
///   not be terminated". So exactly one trailing NUL is removed when present, none is assumed,
///   and any other unit (a NUL inside an NT name included) is kept.
/// - `PSS_PROCESS_INFORMATION.ImageFileName`, a fixed `MAX_PATH` buffer: the name ends at the
///   first NUL, or fills all 260 units when the path was truncated without a terminator
///   (termination is not documented). Windows leaves it empty for long paths.
/// - Paths may be in the NT namespace (`\Device\HarddiskVolume3\...`), not `C:\...`: they are
///   returned as they are, never translated.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct WideStr<'w> {
    units: Cow<'w, [u16]>,
}

impl<'w> WideStr<'w> {
    /// Borrows `units` as they are.
    #[inline]
    pub fn from_utf16(units: &'w [u16]) -> Self {
        WideStr {
            units: Cow::Borrowed(units),
        }
    }

    /// Owns `units`.
    pub fn from_vec(units: Vec<u16>) -> WideStr<'static> {
        WideStr {
            units: Cow::Owned(units),
        }
    }

    /// The string in a fixed buffer: up to the first NUL, or the whole buffer if it has none.
    pub(crate) fn until_nul(buffer: &'w [u16]) -> Self {
        let end = buffer.iter().position(|&unit| unit == 0);
        Self::from_utf16(&buffer[..end.unwrap_or(buffer.len())])
    }

    /// A counted name from a walk entry: `bytes` bytes at `ptr`, cut to whole units, without
    /// one trailing NUL if the count includes it (as Windows counts them). `None` for a NULL
    /// pointer with a non-zero length (nothing to read). A pointer that is not 2-byte aligned
    /// (never seen, not excluded by the documents) is copied unit by unit, the one case that
    /// allocates; `aligned` says the entry knows it is aligned (see `Kept`), and spares the
    /// test.
    ///
    /// # Safety
    ///
    /// Unless NULL, `ptr` must point to `bytes` readable bytes that stay valid and unchanged
    /// for `'w`, and be aligned for `u16` if `aligned`.
    #[inline]
    pub(crate) unsafe fn from_counted(ptr: *const u16, bytes: u16, aligned: bool) -> Option<Self> {
        let len = usize::from(bytes) / 2;
        if len == 0 {
            return Some(Self::default());
        }
        if ptr.is_null() {
            return None;
        }
        let units = if ptr.is_aligned() {
            // SAFETY: non-null, aligned, and `len * 2 <= bytes` readable bytes valid for `'w`
            // (the caller); any bit pattern is a valid `u16`.
            Cow::Borrowed(unsafe { core::slice::from_raw_parts(ptr, len) })
        } else {
            // SAFETY: a pointer known to be aligned is (the caller). Where `aligned` is a
            // constant `true` (a `for` loop's entry), this removes the branch and its copying.
            unsafe { core::hint::assert_unchecked(!aligned) };
            // SAFETY: as above; `read_unaligned` needs no alignment.
            Cow::Owned(
                (0..len)
                    .map(|i| unsafe { ptr.add(i).read_unaligned() })
                    .collect(),
            )
        };
        let mut name = WideStr { units };
        name.strip_one_nul();
        Some(name)
    }

    /// Drops one trailing NUL, if there is one, without copying.
    #[inline]
    fn strip_one_nul(&mut self) {
        if self.units.last() == Some(&0) {
            match &mut self.units {
                Cow::Borrowed(units) => *units = &units[..units.len() - 1],
                Cow::Owned(units) => {
                    units.pop();
                }
            }
        }
    }

    /// The UTF-16 units, exactly as captured.
    #[inline]
    pub fn as_utf16(&self) -> &[u16] {
        &self.units
    }

    /// The length in UTF-16 units.
    #[inline]
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True for an empty string.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Checked conversion: the string, or an error if it holds an unpaired surrogate (which
    /// Windows names may). For a lossy `String`, use [`to_string_lossy`](Self::to_string_lossy),
    /// or `display().to_string()` ([`display`](Self::display)).
    pub fn try_to_string(&self) -> Result<String, FromUtf16Error> {
        String::from_utf16(&self.units)
    }

    /// The string as an [`OsString`], the form paths and names take in `std` on Windows:
    /// lossless there (`OsString` holds any UTF-16, unpaired surrogates included). On other
    /// hosts, where only the test model runs, unpaired surrogates become U+FFFD.
    ///
    /// ```
    /// # use pss::WideStr;
    /// let units: Vec<u16> = r"C:\Program Files\app.exe".encode_utf16().collect();
    /// let name = WideStr::from_utf16(&units);
    /// assert_eq!(name.to_os_string(), r"C:\Program Files\app.exe");
    /// # #[cfg(windows)]
    /// assert_eq!(name.to_path_buf().file_name().unwrap(), "app.exe");
    /// ```
    pub fn to_os_string(&self) -> OsString {
        #[cfg(windows)]
        {
            use std::os::windows::ffi::OsStringExt;
            OsString::from_wide(&self.units)
        }
        #[cfg(not(windows))]
        {
            OsString::from(self.to_string_lossy())
        }
    }

    /// The string as a [`PathBuf`] (through [`to_os_string`](Self::to_os_string)). NT paths
    /// (`\Device\HarddiskVolume3\...`) stay NT paths.
    pub fn to_path_buf(&self) -> PathBuf {
        PathBuf::from(self.to_os_string())
    }

    /// Lossy conversion: unpaired surrogates become U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf16_lossy(&self.units)
    }

    /// A copy that owns its units (no copy if it already does).
    #[must_use]
    pub fn into_owned(self) -> WideStr<'static> {
        WideStr {
            units: Cow::Owned(self.units.into_owned()),
        }
    }

    /// For `{}` formatting, as [`Path::display`](std::path::Path::display): lossy (unpaired
    /// surrogates become U+FFFD), without allocating.
    ///
    /// ```
    /// let name = pss::WideStr::from_utf16(&[0x41, 0xD800, 0x42]);
    /// assert_eq!(format!("{}", name.display()), "A\u{FFFD}B");
    /// assert!(name.try_to_string().is_err(), "the lossless conversion says so");
    /// ```
    pub fn display(&self) -> WideDisplay<'_> {
        WideDisplay { units: &self.units }
    }
}

/// [`WideStr::display`]: the string for `{}`, lossy as [`Path::display`](std::path::Path::display)
/// is: unpaired surrogates are written as U+FFFD, without allocating.
#[derive(Clone, Copy)]
pub struct WideDisplay<'a> {
    units: &'a [u16],
}

impl fmt::Display for WideDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        char::decode_utf16(self.units.iter().copied())
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .try_for_each(|c| f.write_char(c))
    }
}

impl fmt::Debug for WideDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&WideStr::from_utf16(self.units), f)
    }
}

/// Quoted and escaped like `str`'s `Debug`; unpaired surrogates are shown as `\u{d800}`-style
/// escapes so the two lossy cases stay distinguishable.
impl fmt::Debug for WideStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in char::decode_utf16(self.units.iter().copied()) {
            match c {
                Ok(c) => c.escape_debug().try_for_each(|e| f.write_char(e))?,
                Err(e) => write!(f, "\\u{{{:x}}}", e.unpaired_surrogate())?,
            }
        }
        f.write_char('"')
    }
}

impl PartialEq<str> for WideStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.units.iter().copied().eq(other.encode_utf16())
    }
}

impl PartialEq<&str> for WideStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(units: &[u16]) -> WideStr<'_> {
        // SAFETY: `units` is readable for its byte length, for the borrow's lifetime.
        unsafe { WideStr::from_counted(units.as_ptr(), (units.len() * 2) as u16, false) }.unwrap()
    }

    #[test]
    fn one_counted_nul_is_dropped_and_no_more() {
        assert_eq!(counted(&[0x41, 0x42, 0]), "AB");
        assert_eq!(counted(&[0x41, 0x42]), "AB", "no NUL is assumed");
        assert_eq!(counted(&[0x41, 0, 0]).as_utf16(), &[0x41, 0]);
        assert_eq!(counted(&[0x41, 0, 0x42]).as_utf16(), &[0x41, 0, 0x42]);
        assert!(counted(&[0]).is_empty());
    }

    /// Bytes at an even address, so that the one after the first is odd (a `Vec<u8>` has no
    /// such guarantee: Miri gives it any address, and found the test's assertion false).
    #[repr(C, align(2))]
    struct EvenBytes([u8; 8]);

    #[test]
    fn misaligned_names_are_copied_and_stripped_too() {
        let bytes = EvenBytes([0, 0x41, 0, 0x42, 0, 0, 0, 0]);
        let ptr = bytes.0[1..].as_ptr().cast::<u16>();
        assert!(!ptr.is_aligned());
        // SAFETY: six readable bytes at `ptr`, alive for the borrow.
        let name = unsafe { WideStr::from_counted(ptr, 6, false) }.unwrap();
        assert_eq!(name, "AB");
    }

    #[test]
    fn odd_byte_counts_and_null_pointers() {
        let units = [0x41u16, 0x42];
        // SAFETY: three readable bytes; the odd one is dropped.
        let name = unsafe { WideStr::from_counted(units.as_ptr(), 3, false) }.unwrap();
        assert_eq!(name, "A");
        // SAFETY: NULL with a length: nothing is read.
        assert!(unsafe { WideStr::from_counted(core::ptr::null(), 4, false) }.is_none());
        // SAFETY: a zero length reads nothing.
        let empty = unsafe { WideStr::from_counted(core::ptr::null(), 0, false) };
        assert!(empty.unwrap().is_empty());
    }
}
