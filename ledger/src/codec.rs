//! The one module that writes and reads canonical bytes: header `leaf_bytes`
//! (FORMAT v1 §1), payloads (bincode 2, `config::standard()`, §2) and the stored
//! records of the store.
//!
//! Every hash in the system covers bytes written here. Decoding is strict: it never
//! panics, rejects trailing bytes and non-canonical input, and says what was wrong.

use crate::header::{EventHeader, SaltedPayload, FORMAT_VERSION};
use crate::Hash;

/// The bincode configuration every payload uses. Changing it is a new format version.
pub fn payload_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes a payload value with the pinned bincode configuration.
pub fn encode_payload<T: bincode::Encode>(value: &T) -> Result<Vec<u8>, String> {
    bincode::encode_to_vec(value, payload_config()).map_err(|e| e.to_string())
}

/// The most memory a payload's decoded collections may claim (64 MiB). Without a
/// limit bincode allocates whatever length a damaged or hostile payload states
/// before reading it: 2^40 aborted the process. Limits change no encoded byte.
const MAX_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// Decodes a payload, insisting that every byte is consumed.
pub fn decode_payload<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T, String> {
    let config = payload_config().with_limit::<MAX_DECODED_BYTES>();
    let (value, used) = bincode::decode_from_slice(bytes, config).map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the payload",
            bytes.len() - used
        ));
    }
    Ok(value)
}

/// Writes the canonical header bytes of FORMAT v1 §1.
pub fn encode_header(header: &EventHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        1 + 8
            + 32
            + 8
            + 4
            + 12
            + header.actor.len()
            + header.subject.len()
            + header.kind.len()
            + 2
            + 32,
    );
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&header.seq.to_le_bytes());
    out.extend_from_slice(&header.prev);
    out.extend_from_slice(&header.recorded_at.to_le_bytes());
    out.extend_from_slice(&header.effective.to_le_bytes());
    put_str(&mut out, &header.actor);
    put_str(&mut out, &header.subject);
    put_str(&mut out, &header.kind);
    out.extend_from_slice(&header.payload_schema.to_le_bytes());
    out.extend_from_slice(&header.payload_hash);
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Strings longer than u32::MAX cannot reach here: the ledger caps them far lower.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads canonical header bytes back. The input must be exactly one header.
pub fn decode_header(bytes: &[u8]) -> Result<EventHeader, String> {
    decode_header_ref(bytes).map(|h| h.to_owned())
}

/// A decoded header that borrows its strings from the stored bytes, so that `verify`
/// reads a million headers without a million allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    pub seq: u64,
    pub prev: Hash,
    pub recorded_at: i64,
    pub effective: i32,
    pub actor: &'a str,
    pub subject: &'a str,
    pub kind: &'a str,
    pub payload_schema: u16,
    pub payload_hash: Hash,
}

impl HeaderRef<'_> {
    pub fn to_owned(&self) -> EventHeader {
        EventHeader {
            seq: self.seq,
            prev: self.prev,
            recorded_at: self.recorded_at,
            effective: self.effective,
            actor: self.actor.to_owned(),
            subject: self.subject.to_owned(),
            kind: self.kind.to_owned(),
            payload_schema: self.payload_schema,
            payload_hash: self.payload_hash,
        }
    }
}

/// The one strict header decoder: the input must be exactly one header.
pub fn decode_header_ref(bytes: &[u8]) -> Result<HeaderRef<'_>, String> {
    let mut r = Reader { bytes, at: 0 };
    let format = r.take::<1>("format")?[0];
    if format != FORMAT_VERSION {
        return Err(format!(
            "format byte is {format}, this build reads only format {FORMAT_VERSION}"
        ));
    }
    let header = HeaderRef {
        seq: u64::from_le_bytes(r.take("seq")?),
        prev: r.take("prev")?,
        recorded_at: i64::from_le_bytes(r.take("recorded_at")?),
        effective: i32::from_le_bytes(r.take("effective")?),
        actor: r.string("actor")?,
        subject: r.string("subject")?,
        kind: r.string("kind")?,
        payload_schema: u16::from_le_bytes(r.take("payload_schema")?),
        payload_hash: r.take("payload_hash")?,
    };
    if r.at != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the header",
            bytes.len() - r.at
        ));
    }
    Ok(header)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self, field: &str) -> Result<[u8; N], String> {
        let end = self
            .at
            .checked_add(N)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!("header ends inside the field `{field}`"));
        };
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(out)
    }

    fn string(&mut self, field: &str) -> Result<&'a str, String> {
        let len = u32::from_le_bytes(self.take(field)?) as usize;
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "field `{field}` claims {len} bytes but the header is shorter"
            ));
        };
        let text = std::str::from_utf8(&self.bytes[self.at..end])
            .map_err(|_| format!("field `{field}` is not valid UTF-8"))?;
        self.at = end;
        Ok(text)
    }
}

/// The stored record of one event: a `u32` LE length, the header's `leaf_bytes`,
/// then — unless the payload was redacted — the 16 salt bytes and the payload.
pub fn encode_record(leaf: &[u8], body: Option<&SaltedPayload>) -> Vec<u8> {
    let payload_len = body.map_or(0, |b| 16 + b.payload.len());
    let mut out = Vec::with_capacity(4 + leaf.len() + payload_len);
    let len = u32::try_from(leaf.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(leaf);
    if let Some(body) = body {
        out.extend_from_slice(&body.salt);
        out.extend_from_slice(&body.payload);
    }
    out
}

/// A stored record split into its parts, borrowing from the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordParts<'a> {
    pub leaf: &'a [u8],
    /// Salt and payload, or `None` when redacted.
    pub body: Option<(&'a [u8; 16], &'a [u8])>,
}

/// Splits a stored record; a record too short for what it claims is an error.
pub fn split_record(bytes: &[u8]) -> Result<RecordParts<'_>, String> {
    let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
        return Err("the stored record is shorter than its length prefix".into());
    };
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(format!(
            "the stored record claims a {len}-byte header but holds {} bytes",
            rest.len()
        ));
    }
    let (leaf, tail) = rest.split_at(len);
    let body = match tail.split_first_chunk::<16>() {
        Some((salt, payload)) => Some((salt, payload)),
        None if tail.is_empty() => None,
        None => {
            return Err(format!(
                "the stored record has {} bytes after its header, too few for a salt",
                tail.len()
            ))
        }
    };
    Ok(RecordParts { leaf, body })
}

impl RecordParts<'_> {
    /// The owned salt and payload.
    pub fn salted(&self) -> Option<SaltedPayload> {
        self.body.map(|(salt, payload)| SaltedPayload {
            salt: *salt,
            payload: payload.to_vec(),
        })
    }
}

/// A chunk: consecutive event records, each as a `u32` LE length and the record.
/// A batch of appended events is stored as a few chunks, so that reading the whole
/// log touches one store entry per chunk rather than one per event.
pub fn encode_chunk<R: AsRef<[u8]>>(records: &[R]) -> Vec<u8> {
    let total: usize = records.iter().map(|r| 4 + r.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for record in records {
        let record = record.as_ref();
        let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(record);
    }
    out
}

/// The records of a chunk, in order; a damaged length is an error, never a panic.
pub fn chunk_records(chunk: &[u8]) -> impl Iterator<Item = Result<&[u8], String>> {
    let mut rest = chunk;
    let mut failed = false;
    std::iter::from_fn(move || {
        if rest.is_empty() || failed {
            return None;
        }
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            failed = true;
            return Some(Err("a chunk ends inside a record length".into()));
        };
        let len = u32::from_le_bytes(*len) as usize;
        if tail.len() < len {
            failed = true;
            return Some(Err(format!(
                "a chunk record claims {len} bytes but only {} remain",
                tail.len()
            )));
        }
        let (record, next) = tail.split_at(len);
        rest = next;
        Some(Ok(record))
    })
}

/// The recorded head of the log, stored beside the events and in the head file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number of events in the log (the next seq).
    pub size: u64,
    /// `event_hash` of the last event, or zeros for an empty log.
    pub hash: Hash,
    /// `recorded_at` of the last event, or `i64::MIN` for an empty log.
    pub recorded_at: i64,
}

impl Head {
    pub const EMPTY: Head = Head {
        size: 0,
        hash: [0; 32],
        recorded_at: i64::MIN,
    };
}

const HEAD_MAGIC: &[u8; 8] = b"ASSHEAD1";

/// Head record: magic, size, hash, recorded_at, then a BLAKE3 checksum of all that, so
/// a torn or edited head file is recognised rather than trusted.
pub fn encode_head(head: &Head) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 8 + 32 + 8 + 32);
    out.extend_from_slice(HEAD_MAGIC);
    out.extend_from_slice(&head.size.to_le_bytes());
    out.extend_from_slice(&head.hash);
    out.extend_from_slice(&head.recorded_at.to_le_bytes());
    let check = *blake3::hash(&out).as_bytes();
    out.extend_from_slice(&check);
    out
}

/// Reads a head record; any damage is an error, never a guess.
pub fn decode_head(bytes: &[u8]) -> Result<Head, String> {
    if bytes.len() != 88 {
        return Err(format!("head record is {} bytes, expected 88", bytes.len()));
    }
    let (body, check) = bytes.split_at(56);
    if blake3::hash(body).as_bytes() != check {
        return Err("head record checksum does not match its contents".into());
    }
    if &body[..8] != HEAD_MAGIC {
        return Err("head record has the wrong magic bytes".into());
    }
    let mut r = Reader {
        bytes: &body[8..],
        at: 0,
    };
    Ok(Head {
        size: u64::from_le_bytes(r.take("size")?),
        hash: r.take("hash")?,
        recorded_at: i64::from_le_bytes(r.take("recorded_at")?),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> EventHeader {
        EventHeader {
            seq: 1,
            prev: [0xAB; 32],
            recorded_at: 1_700_000_000_000_000,
            effective: 19_700,
            actor: "sam".into(),
            subject: "plan/p/action/1.1".into(),
            kind: "action.status_changed".into(),
            payload_schema: 1,
            payload_hash: [0xCD; 32],
        }
    }

    /// Golden bytes: if this test changes, the on-disk and export format changed.
    #[test]
    fn header_golden_bytes() {
        let bytes = encode_header(&sample());
        let mut expected = vec![1u8];
        expected.extend_from_slice(&1u64.to_le_bytes());
        expected.extend_from_slice(&[0xAB; 32]);
        expected.extend_from_slice(&1_700_000_000_000_000i64.to_le_bytes());
        expected.extend_from_slice(&19_700i32.to_le_bytes());
        expected.extend_from_slice(&[3, 0, 0, 0]);
        expected.extend_from_slice(b"sam");
        expected.extend_from_slice(&[17, 0, 0, 0]);
        expected.extend_from_slice(b"plan/p/action/1.1");
        expected.extend_from_slice(&[21, 0, 0, 0]);
        expected.extend_from_slice(b"action.status_changed");
        expected.extend_from_slice(&[1, 0]);
        expected.extend_from_slice(&[0xCD; 32]);
        assert_eq!(bytes, expected);
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            "6162512e8e0e2c67fa3b3d966c129479e0c39f6bbec7bc61287a33149dcdb297"
        );
    }

    #[test]
    fn truncated_header_is_an_error_at_every_length() {
        let bytes = encode_header(&sample());
        for len in 0..bytes.len() {
            assert!(decode_header(&bytes[..len]).is_err(), "length {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_header(&longer).is_err());
    }

    #[test]
    fn head_record_detects_any_flipped_bit() {
        let head = Head {
            size: 7,
            hash: [9; 32],
            recorded_at: 42,
        };
        let bytes = encode_head(&head);
        assert_eq!(decode_head(&bytes).unwrap(), head);
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(decode_head(&bad).is_err(), "bit {bit}");
        }
    }

    proptest! {
        #[test]
        fn header_round_trips(seq: u64, prev: [u8; 32], recorded_at: i64, effective: i32,
                              actor in ".{0,20}", subject in ".{0,40}", kind in "[a-z._]{0,30}",
                              payload_schema: u16, payload_hash: [u8; 32]) {
            let header = EventHeader { seq, prev, recorded_at, effective, actor, subject, kind, payload_schema, payload_hash };
            let bytes = encode_header(&header);
            prop_assert_eq!(decode_header(&bytes).unwrap(), header);
        }

        #[test]
        fn header_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_header(&bytes);
        }

        #[test]
        fn payload_round_trips(value in proptest::collection::vec(".{0,10}", 0..5)) {
            let bytes = encode_payload(&value).unwrap();
            prop_assert_eq!(decode_payload::<Vec<String>>(&bytes).unwrap(), value);
        }
    }
}
