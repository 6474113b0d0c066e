//! Little-endian bytes at fixed offsets: how the model lays out Windows structures (PE headers,
//! TEBs, the PEB and its loader data, stack frames) in a process's memory, and reads them back.

/// A growing buffer written at absolute offsets; writing past its end extends it with zeros.
#[derive(Debug, Default)]
pub(crate) struct LeBuf(pub(crate) Vec<u8>);

impl LeBuf {
    pub(crate) fn bytes(&mut self, at: usize, bytes: &[u8]) {
        let end = at + bytes.len();
        if self.0.len() < end {
            self.0.resize(end, 0);
        }
        self.0[at..end].copy_from_slice(bytes);
    }
    pub(crate) fn u8(&mut self, at: usize, v: u8) {
        self.bytes(at, &[v]);
    }
    pub(crate) fn u16(&mut self, at: usize, v: u16) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, at: usize, v: u32) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, at: usize, v: u64) {
        self.bytes(at, &v.to_le_bytes());
    }
    /// A pointer of the model's processes (the host's width: the model has no bitness).
    pub(crate) fn ptr(&mut self, at: usize, v: usize) {
        self.bytes(at, &v.to_le_bytes());
    }
}

/// Reads `N` bytes at `at`, or `None` past the end.
fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    array(bytes, at).map(u16::from_le_bytes)
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    array(bytes, at).map(u32::from_le_bytes)
}
