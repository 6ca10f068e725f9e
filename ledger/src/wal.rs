//! The write-ahead log (`DATA/wal`): where an append becomes durable.
//!
//! Each staged batch is one frame, `u32 length ‖ BLAKE3(body) ‖ body`, appended and
//! fdatasynced (`Syncer::sync`) before anything of it is acknowledged. The store
//! (sled) gets the batches later, many at once (`Settling::settle`), and is flushed
//! from time to time (`Syncer::flush_store`), after which the log is emptied. On open,
//! the frames the store does not hold yet are applied to it.
//!
//! A crash can tear only the last write: a frame that does not check at the end of
//! the file is cut off (it was never acknowledged). A frame that does not check but
//! is followed by one that does is damage, and the ledger refuses to open.
//!
//! The frames logged by one sync (the service's group commit) are written as one
//! **group frame**, `u32 (length | GROUP) ‖ BLAKE3(body) ‖ body`, whose body is each
//! frame's `u32 length ‖ body` without its checksum: a power cut may keep a later
//! 4 KiB block of a write and lose an earlier one, and what it kept must not pass for
//! whole frames after a bad one, i.e. damage (found by the power-loss simulator,
//! `tests/powerloss/`). A group checks, and is torn, as one.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::storage::Write as StoreWrite;

/// Frames larger than this are damage, not data.
const MAX_FRAME: usize = 1 << 30;
/// The length's top bit: the frame is a group of frames written by one sync.
const GROUP: u32 = 1 << 31;
const TARGET: &str = "write-ahead log";

/// One staged batch, as the log keeps it and the store will receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The ledger's size before the batch: the seq of its first event.
    pub base: u64,
    /// The head after it.
    pub head: Head,
    /// Each event's record, with the plan or challenge it is indexed under.
    pub records: Vec<(String, Vec<u8>)>,
    /// Store writes besides the records: the time index, Merkle tree nodes, extras.
    pub writes: Vec<StoreWrite>,
    /// The Merkle tree frontier after the batch.
    pub frontier: Vec<u8>,
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The batch as one frame.
pub(crate) fn frame(batch: &Batch) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&batch.base.to_le_bytes());
    put(&mut body, &codec::encode_head(&batch.head));
    body.extend_from_slice(&(batch.records.len() as u32).to_le_bytes());
    for (group, record) in &batch.records {
        put(&mut body, group.as_bytes());
        put(&mut body, record);
    }
    body.extend_from_slice(&(batch.writes.len() as u32).to_le_bytes());
    for (key, value) in &batch.writes {
        put(&mut body, key);
        match value {
            Some(value) => {
                body.push(1);
                put(&mut body, value);
            }
            None => body.push(0),
        }
    }
    put(&mut body, &batch.frontier);
    let mut out = Vec::with_capacity(36 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(blake3::hash(&body).as_bytes());
    out.extend_from_slice(&body);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| "a frame ends early".to_owned())?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> std::result::Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn bytes(&mut self) -> std::result::Result<Vec<u8>, String> {
        let n = self.u32()?;
        Ok(self.take(n)?.to_vec())
    }
}

fn decode_body(body: &[u8]) -> std::result::Result<Batch, String> {
    let mut r = Reader { bytes: body, at: 0 };
    let mut base = [0u8; 8];
    base.copy_from_slice(r.take(8)?);
    let head = codec::decode_head(&r.bytes()?)?;
    let count = r.u32()?;
    let mut records = Vec::with_capacity(count.min(body.len()));
    for _ in 0..count {
        let group = String::from_utf8(r.bytes()?).map_err(|_| "a group is not UTF-8")?;
        records.push((group, r.bytes()?));
    }
    let count = r.u32()?;
    let mut writes = Vec::with_capacity(count.min(body.len()));
    for _ in 0..count {
        let key = r.bytes()?;
        let value = match r.take(1)?[0] {
            0 => None,
            1 => Some(r.bytes()?),
            _ => return Err("a write is neither a value nor a removal".into()),
        };
        writes.push((key, value));
    }
    let frontier = r.bytes()?;
    if r.at != body.len() {
        return Err("a frame has bytes after its end".into());
    }
    let batch = Batch {
        base: u64::from_le_bytes(base),
        head,
        records,
        writes,
        frontier,
    };
    if batch.head.size != batch.base + batch.records.len() as u64 {
        return Err("a frame's head does not follow its events".into());
    }
    Ok(batch)
}

/// The frames of one sync as one write: the frame itself if there is one, else a
/// group frame holding them all without their own checksums (checked as one, torn as
/// one, and nothing in it checks as a frame by itself).
pub(crate) fn group(frames: &[&[u8]]) -> Vec<u8> {
    if let [one] = frames {
        return one.to_vec();
    }
    let mut body = Vec::with_capacity(frames.iter().map(|f| f.len()).sum());
    for frame in frames {
        body.extend_from_slice(&frame[..4]);
        body.extend_from_slice(&frame[36..]);
    }
    let mut out = Vec::with_capacity(36 + body.len());
    out.extend_from_slice(&(body.len() as u32 | GROUP).to_le_bytes());
    out.extend_from_slice(blake3::hash(&body).as_bytes());
    out.extend_from_slice(&body);
    out
}

/// The frame at `at`: its batches (one, or a group's) and where the next frame
/// begins, or why it does not check.
fn frame_at(bytes: &[u8], at: usize) -> std::result::Result<(Vec<Batch>, usize), String> {
    let mut r = Reader { bytes, at };
    let raw = r.u32()? as u32;
    let len = (raw & !GROUP) as usize;
    if len > MAX_FRAME {
        return Err(format!("a frame claims {len} bytes"));
    }
    let check = r.take(32)?.to_vec();
    let body = r.take(len)?;
    if blake3::hash(body).as_bytes()[..] != check[..] {
        return Err("a frame's checksum does not match".into());
    }
    if raw & GROUP == 0 {
        return Ok((vec![decode_body(body)?], r.at));
    }
    // A group: each batch's `u32 length ‖ body`, filling the group exactly.
    let mut batches = Vec::new();
    let mut inner = Reader { bytes: body, at: 0 };
    while inner.at < body.len() {
        batches.push(decode_body(&inner.bytes()?)?);
    }
    if batches.is_empty() {
        return Err("a group frame holds no frame".into());
    }
    Ok((batches, r.at))
}

/// Every whole frame of `bytes` and the length they take. A bad frame at the end is
/// a torn write (cut off); one followed by a frame that checks is damage.
pub(crate) fn read_frames(bytes: &[u8]) -> Result<(Vec<Batch>, usize)> {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match frame_at(bytes, at) {
            Ok((mut found, next)) => {
                batches.append(&mut found);
                at = next;
            }
            Err(why) => {
                let later = (at + 1..bytes.len()).any(|from| frame_at(bytes, from).is_ok());
                if later {
                    return Err(Error::corruption(
                        batches.last().map(|b: &Batch| b.head.size),
                        format!(
                            "the write-ahead log is damaged at byte {at} ({why}) with whole frames after it; \
                             keep a copy of the data folder and restore it from a backup or an export (`assure --data NEW restore --bundle DIR --trust VKEY`)"
                        ),
                    ));
                }
                break;
            }
        }
    }
    Ok((batches, at))
}

/// The log file. Opening only reads it: a data folder made before the log existed
/// gets one at the first write, and a torn tail is cut off then, so read-only
/// commands change nothing.
#[derive(Debug)]
pub(crate) struct Wal {
    path: PathBuf,
    file: Option<File>,
    /// Where the whole frames end: the next frame goes here.
    len: u64,
    /// Whether bytes past `len` (a torn write) must be cut before the next write.
    torn: bool,
}

impl Wal {
    /// Reads the log (if there is one) and returns the batches it holds.
    pub(crate) fn open(path: &Path) -> Result<(Wal, Vec<Batch>)> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        let (batches, whole) = read_frames(&bytes)?;
        let wal = Wal {
            path: path.to_path_buf(),
            file: None,
            len: whole as u64,
            torn: whole < bytes.len(),
        };
        Ok((wal, batches))
    }

    /// The file, opened (and made, for a folder from before the log) on first use.
    fn open_file(&mut self) -> Result<&File> {
        if self.file.is_none() {
            let existed = self.path.exists();
            let file = faults::io(Op::Create, TARGET, || {
                OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&self.path)
            })
            .map_err(|e| Error::io(format!("opening {}", self.path.display()), e))?;
            if !existed {
                faults::io(Op::Fsync, TARGET, || file.sync_all())
                    .map_err(|e| Error::io("creating the write-ahead log", e))?;
                if let Some(dir) = self.path.parent() {
                    crate::storage::sync_dir(dir)?;
                }
            }
            self.file = Some(file);
        }
        self.file
            .as_ref()
            .ok_or_else(|| Error::Rejected("the write-ahead log is not open".into()))
    }

    /// Appends frames and makes them durable.
    pub(crate) fn append(&mut self, frames: &[u8]) -> Result<()> {
        if self.torn {
            let len = self.len;
            self.cut(len)?;
            self.torn = false;
        }
        let at = self.len;
        let file = self.open_file()?;
        faults::io(Op::Write, TARGET, || file.write_all_at(frames, at))
            .and_then(|()| faults::io(Op::Fsync, TARGET, || file.sync_data()))
            .map_err(|e| Error::io("writing the write-ahead log", e))?;
        self.len += frames.len() as u64;
        Ok(())
    }

    /// Empties the log, once the store holds everything in it durably.
    pub(crate) fn empty(&mut self) -> Result<()> {
        if self.len == 0 && !self.torn {
            return Ok(());
        }
        self.cut(0)?;
        self.torn = false;
        Ok(())
    }

    fn cut(&mut self, len: u64) -> Result<()> {
        let file = self.open_file()?;
        faults::io(Op::Write, TARGET, || file.set_len(len))
            .and_then(|()| faults::io(Op::Fsync, TARGET, || file.sync_data()))
            .map_err(|e| Error::io(format!("shortening {}", self.path.display()), e))?;
        self.len = len;
        Ok(())
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(base: u64, n: usize) -> Batch {
        Batch {
            base,
            head: Head {
                size: base + n as u64,
                hash: [n as u8; 32],
                recorded_at: 7,
            },
            records: (0..n)
                .map(|i| (format!("plan/p{i}"), vec![i as u8; 10 + i]))
                .collect(),
            writes: vec![(b"t/1".to_vec(), Some(Vec::new())), (b"x".to_vec(), None)],
            frontier: vec![1, 2, 3],
        }
    }

    #[test]
    fn frames_read_back_and_a_torn_tail_is_cut_at_every_length() {
        let batches = [batch(0, 2), batch(2, 3), batch(5, 1)];
        let bytes: Vec<u8> = batches.iter().flat_map(frame).collect();
        let (read, whole) = read_frames(&bytes).expect("whole frames");
        assert_eq!((read.as_slice(), whole), (&batches[..], bytes.len()));
        let first = frame(&batches[0]).len();
        let two = first + frame(&batches[1]).len();
        for cut in 0..bytes.len() {
            let (read, whole) = read_frames(&bytes[..cut]).expect("a torn tail");
            let expect = [first, two, bytes.len()]
                .iter()
                .filter(|&&e| e <= cut)
                .count();
            assert_eq!(read.len(), expect, "cut at {cut}");
            assert_eq!(read[..], batches[..expect]);
            assert!(whole <= cut);
        }
    }

    /// Found by the power-loss simulator: the service logs several frames in one
    /// write, and a power cut may keep a later 4 KiB block of it and lose an earlier
    /// one. Written as a group, whatever part of the write is lost, the log reads
    /// as the frames before it (a torn tail), never as damage.
    #[test]
    fn a_group_written_by_one_sync_torn_anywhere_is_a_torn_tail_not_damage() {
        let before = frame(&batch(0, 1));
        let grouped = [batch(1, 3), batch(4, 40), batch(44, 2), batch(46, 70)];
        let frames: Vec<Vec<u8>> = grouped.iter().map(frame).collect();
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let group = group(&refs);
        let mut bytes = before.clone();
        bytes.extend_from_slice(&group);
        let (read, whole) = read_frames(&bytes).expect("whole");
        assert_eq!(read.len(), 5);
        assert_eq!(read[1..], grouped[..]);
        assert_eq!(whole, bytes.len());
        // Lose any one 64-byte stretch of the group (a block of a torn write).
        for lost in (before.len()..bytes.len()).step_by(64) {
            let mut torn = bytes.clone();
            let end = (lost + 64).min(torn.len());
            torn[lost..end].fill(0);
            let (read, whole) = read_frames(&torn).expect("a torn tail, not damage");
            assert_eq!((read.len(), whole), (1, before.len()), "lost at {lost}");
        }
        // One frame is written as itself, as before groups existed.
        assert_eq!(super::group(&[&before]), before);
    }

    #[test]
    fn a_damaged_frame_before_whole_ones_is_an_error_not_a_silent_cut() {
        let bytes: Vec<u8> = [batch(0, 2), batch(2, 3)].iter().flat_map(frame).collect();
        let first = frame(&batch(0, 2)).len();
        for at in 0..first {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            let result = read_frames(&damaged);
            assert!(
                matches!(result, Err(Error::Corruption { .. })),
                "byte {at}: {result:?}"
            );
        }
    }
}
