//! The data folder's files and the store's key layout: where everything the ledger
//! keeps lives, and how keys sort (seqs and times big-endian, so byte order is
//! numeric order). Pure names and byte layouts; nothing here opens a file.

pub(crate) const MARKER_FILE: &str = "ASSURE-LEDGER";
pub(crate) const MARKER_TEXT: &str = "Assure ledger\nformat: 1\n";
pub(crate) const LOCK_FILE: &str = "LOCK";
pub(crate) const HEAD_FILE: &str = "HEAD";
pub(crate) const STORE_DIR: &str = "store";
pub(crate) const BLOBS_DIR: &str = "blobs";
pub(crate) const WAL_FILE: &str = "wal";

/// The most events stored in one chunk of the log.
pub(crate) const CHUNK_EVENTS: usize = 128;

pub(crate) use keys::INDEX_PARTS;

/// Key layout of the store. Seqs and times are big-endian so byte order is numeric order.
pub(crate) mod keys {
    /// `e ‖ first seq` → a chunk of consecutive event records (the log itself).
    pub const EVENT: u8 = b'e';
    pub const SUBJECT: u8 = b's';
    pub const TIME: u8 = b't';
    pub const HEAD: &[u8] = b"m/head";

    pub fn seq_key(space: u8, seq: u64) -> [u8; 9] {
        let mut key = [space; 9];
        key[1..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    /// The subject index is split by `first seq % INDEX_PARTS` so that `verify` can
    /// check the parts on both cores.
    pub const INDEX_PARTS: u8 = 4;

    /// The index groups events by the first two parts of their subject: a plan
    /// (`plan/{id}` and all its actions), one challenge, `ledger`.
    pub fn group_of(subject: &str) -> &str {
        match subject.match_indices('/').nth(1) {
            Some((at, _)) => &subject[..at],
            None => subject,
        }
    }

    /// `s ‖ part ‖ group ‖ 0x00 ‖ first seq` → a chunk of copies of the records of that
    /// group's events appended in one batch: a covering index, so a plan's events are
    /// a few contiguous reads. `verify` checks every copy against the log. Subjects
    /// hold no control characters, so 0x00 ends the group.
    pub fn index_key(group: &str, first_seq: u64) -> Vec<u8> {
        let mut key = Vec::with_capacity(group.len() + 11);
        key.push(SUBJECT);
        key.push(b'0' + (first_seq % u64::from(INDEX_PARTS)) as u8);
        key.extend_from_slice(group.as_bytes());
        key.push(0);
        key.extend_from_slice(&first_seq.to_be_bytes());
        key
    }

    /// `t ‖ recorded_at (sign bit flipped, big-endian) ‖ seq`.
    pub fn time_key(recorded_at: i64, seq: u64) -> [u8; 17] {
        let mut key = [TIME; 17];
        key[1..9].copy_from_slice(&((recorded_at as u64) ^ (1 << 63)).to_be_bytes());
        key[9..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    /// The key range of one index part holding `group` exactly, or every group that
    /// starts with it.
    pub fn group_range(part: u8, group: &[u8], exact: bool) -> (Vec<u8>, Vec<u8>) {
        let mut start = vec![SUBJECT, b'0' + part];
        start.extend_from_slice(group);
        let mut end = start.clone();
        if exact {
            start.push(0);
            end.push(1);
        } else {
            // No UTF-8 byte is 0xFF, so this is past every key that starts with `start`.
            end.push(0xFF);
        }
        (start, end)
    }

    pub fn seq_from_suffix(key: &[u8]) -> Option<u64> {
        let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
        Some(u64::from_be_bytes(tail))
    }
}
