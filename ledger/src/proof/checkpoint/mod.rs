//! Signed checkpoints (https://c2sp.org/tlog-checkpoint) and offline inclusion proofs
//! (https://c2sp.org/tlog-proof): what the ledger hands to an outsider so they can
//! check, with nothing but trusted keys, that an event is in the log.
//!
//! A checkpoint body is `<origin>\n<size, decimal>\n<root, standard base64>\n`, then
//! optional non-empty extension lines, carried as the text of a signed note. A
//! tlog-proof is, line by line: `c2sp.org/tlog-proof@v1`; an optional
//! `extra <base64>` line; `index <N>` (decimal, no leading zeros); zero or more
//! base64 SHA-256 hashes of the RFC 9162 inclusion proof, leaf sibling first; an empty
//! line; then the signed checkpoint note, verbatim. Choices where the spec is silent:
//! an `extra ` line with nothing after it is read as empty extra data (and written
//! back the same way); at most 64 proof hashes are accepted, the depth of a tree
//! whose size fits in a u64; the extra data is never trusted or interpreted here.
//!
//! This module must never do IO and never panic on any input. It does not check that
//! a checkpoint's origin is the one the caller expected, nor that it is consistent
//! with earlier checkpoints: callers that care compare `origin` and use
//! `merkle::verify_consistency`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::merkle::{self, VerifyError};
use crate::note::{Note, NoteError, SigningKey, VerifiedSignature, VerifierKey, MAX_NOTE_BYTES};
use crate::Hash;

/// The first line of every tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion proof hashes a tlog-proof may carry: one per level of a tree
/// whose size fits in a u64.
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest tlog-proof accepted: a full-size note plus room for the proof lines
/// and a modest amount of extra data.
pub const MAX_TLOG_PROOF_BYTES: usize = 2 * MAX_NOTE_BYTES;

/// Why a checkpoint could not be read, made or verified. Line numbers count from 1
/// within the checkpoint text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint text must end with a newline")]
    MissingFinalNewline,
    #[error("the checkpoint text has {found} lines; it needs origin, tree size and root hash")]
    TooFewLines { found: usize },
    #[error("checkpoint line {line} is empty; every checkpoint line must hold text")]
    EmptyLine { line: usize },
    #[error("checkpoint line {line} holds a newline or another control character")]
    ControlCharacter { line: usize },
    #[error(
        "checkpoint line 2, the tree size {found:?}, is not a decimal u64 without leading zeros"
    )]
    BadSize { found: String },
    #[error("checkpoint line 3 is not the standard base64 of a 32-byte root hash")]
    BadRoot,
    #[error("the checkpoint's signed note: {0}")]
    Note(#[from] NoteError),
}

/// Why a tlog-proof could not be read or did not verify. Line numbers count from 1
/// within the tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogProofError {
    #[error("the proof is {len} bytes long; the limit is {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("line {line} of the proof is not valid UTF-8")]
    NotUtf8 { line: usize },
    #[error("line 1 of the proof must be exactly {TLOG_PROOF_HEADER}")]
    MissingHeader,
    #[error("line {line}: the extra data is not standard base64")]
    BadExtra { line: usize },
    #[error("line {line} must be `index <N>` with N a decimal u64 without leading zeros")]
    BadIndex { line: usize },
    #[error("line {line} is not the standard base64 of a 32-byte proof hash")]
    BadHash { line: usize },
    #[error("the proof has more than {max} hashes")]
    TooManyHashes { max: usize },
    #[error("the proof ends at line {line} before the blank line that precedes the checkpoint")]
    Truncated { line: usize },
    #[error("the checkpoint in the proof: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the inclusion proof does not match the checkpoint: {0}")]
    Inclusion(#[from] VerifyError),
}

/// A tree head: which log, how many leaves, and the RFC 9162 root at that size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, by convention its key name (a schema-less URL).
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The Merkle tree root at `size`.
    pub root: Hash,
    /// Opaque extra lines; the spec advises against them, so the ledger writes none.
    pub extensions: Vec<String>,
}

/// A text line of a checkpoint must hold something and no control character.
fn check_line(line: &str, line_no: usize) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::EmptyLine { line: line_no });
    }
    if line.bytes().any(|b| b < 0x20) {
        return Err(CheckpointError::ControlCharacter { line: line_no });
    }
    Ok(())
}

/// A decimal u64 written without leading zeros (except for `0` itself), as both the
/// checkpoint size and the tlog-proof index must be.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Standard base64 of exactly 32 bytes.
fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = STANDARD.decode(text).ok()?;
    Hash::try_from(bytes.as_slice()).ok()
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: origin, size and root lines, then the extension lines.
    pub fn to_body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Checks that [`Checkpoint::to_body`] will write a body that reads back as this
    /// checkpoint: a non-empty origin and extension lines, none with a control character.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        check_line(&self.origin, 1)?;
        for (i, extension) in self.extensions.iter().enumerate() {
            check_line(extension, 4 + i)?;
        }
        Ok(())
    }

    /// Reads a checkpoint body (a note text, with its final newline).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            check_line(line, i + 1)?;
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { found: lines.len() });
        };
        let size = parse_decimal(size).ok_or_else(|| CheckpointError::BadSize {
            found: (*size).to_owned(),
        })?;
        let root = parse_hash(root).ok_or(CheckpointError::BadRoot)?;
        Ok(Self {
            origin: (*origin).to_owned(),
            size,
            root,
            extensions: extensions.iter().map(|&e| e.to_owned()).collect(),
        })
    }
}

/// A checkpoint that verified, and the trusted keys whose signatures on it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signers: Vec<VerifiedSignature>,
}

/// A signed note whose text is a checkpoint. Its checkpoint is not to be trusted
/// until [`SignedCheckpoint::verify`] has succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with each of `keys` (the log's key first, by convention
    /// named like the origin).
    pub fn sign(checkpoint: &Checkpoint, keys: &[&SigningKey]) -> Result<Self, CheckpointError> {
        checkpoint.validate()?;
        let note = Note::sign(&checkpoint.to_body(), keys)?;
        Ok(Self {
            checkpoint: checkpoint.clone(),
            note,
        })
    }

    /// Wraps a note whose text must be a checkpoint body.
    pub fn from_note(note: Note) -> Result<Self, CheckpointError> {
        let checkpoint = Checkpoint::parse_body(note.text())?;
        Ok(Self { checkpoint, note })
    }

    /// Reads a signed checkpoint, checking its form but not its signatures.
    pub fn parse(bytes: &[u8]) -> Result<Self, CheckpointError> {
        Self::from_note(Note::parse(bytes)?)
    }

    /// Co-signs, keeping the existing signatures.
    pub fn add_signature(&mut self, key: &SigningKey) -> Result<(), CheckpointError> {
        Ok(self.note.add_signature(key)?)
    }

    /// Adds a co-signature made elsewhere; the caller has verified it.
    pub fn attach_signature(
        &mut self,
        signature: crate::note::NoteSignature,
    ) -> Result<(), CheckpointError> {
        Ok(self.note.attach_signature(signature)?)
    }

    /// The checkpoint as written, not yet verified.
    pub fn unverified_checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Verifies the signatures against `trusted` keys (see [`Note::verify`]) and
    /// returns the checkpoint with the keys that signed it.
    pub fn verify(&self, trusted: &[VerifierKey]) -> Result<VerifiedCheckpoint, CheckpointError> {
        let signers = self.note.verify(trusted)?;
        Ok(VerifiedCheckpoint {
            checkpoint: self.checkpoint.clone(),
            signers,
        })
    }
}

impl fmt::Display for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.note.fmt(f)
    }
}

/// An offline proof that one event is in the log: an inclusion proof against a
/// signed checkpoint, in the C2SP tlog-proof text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The leaf's position, which for the ledger is the event's seq.
    pub index: u64,
    /// Unauthenticated application data; never trusted.
    pub extra: Option<Vec<u8>>,
    /// The RFC 9162 inclusion proof, leaf sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note the proof leads to.
    pub checkpoint: Note,
}

/// Hands out the lines of a text one at a time with their line numbers, each of
/// which must end with a newline.
struct Lines<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Result<(&'a str, usize), TlogProofError> {
        let (line, rest) = self
            .rest
            .split_once('\n')
            .ok_or(TlogProofError::Truncated {
                line: self.line + 1,
            })?;
        self.rest = rest;
        self.line += 1;
        Ok((line, self.line))
    }
}

impl TlogProof {
    /// Reads a tlog-proof, checking its form and that the checkpoint is a well-formed
    /// signed checkpoint, but no signature and not the proof.
    pub fn parse(bytes: &[u8]) -> Result<Self, TlogProofError> {
        if bytes.len() > MAX_TLOG_PROOF_BYTES {
            return Err(TlogProofError::TooLarge {
                len: bytes.len(),
                max: MAX_TLOG_PROOF_BYTES,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| TlogProofError::NotUtf8 {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
        })?;
        let mut lines = Lines {
            rest: text,
            line: 0,
        };
        if lines.next()?.0 != TLOG_PROOF_HEADER {
            return Err(TlogProofError::MissingHeader);
        }
        let (mut line, mut line_no) = lines.next()?;
        let mut extra = None;
        if let Some(encoded) = line.strip_prefix("extra ") {
            let decoded = STANDARD.decode(encoded);
            extra = Some(decoded.map_err(|_| TlogProofError::BadExtra { line: line_no })?);
            (line, line_no) = lines.next()?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or(TlogProofError::BadIndex { line: line_no })?;
        let mut proof = Vec::new();
        loop {
            let (line, line_no) = lines.next()?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes {
                    max: MAX_PROOF_HASHES,
                });
            }
            proof.push(parse_hash(line).ok_or(TlogProofError::BadHash { line: line_no })?);
        }
        let checkpoint = Note::parse(lines.rest.as_bytes()).map_err(CheckpointError::from)?;
        Checkpoint::parse_body(checkpoint.text())?;
        Ok(Self {
            index,
            extra,
            proof,
            checkpoint,
        })
    }

    /// Verifies the checkpoint's signatures against `trusted` keys, then that the
    /// leaf for `event_hash` is at `index` in the tree the checkpoint commits to.
    /// Returns the verified checkpoint and its signers.
    pub fn verify(
        &self,
        event_hash: &Hash,
        trusted: &[VerifierKey],
    ) -> Result<VerifiedCheckpoint, TlogProofError> {
        let signed = SignedCheckpoint::from_note(self.checkpoint.clone())?;
        let verified = signed.verify(trusted)?;
        let checkpoint = &verified.checkpoint;
        merkle::verify_inclusion(
            self.index,
            checkpoint.size,
            &merkle::leaf_hash(event_hash),
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(verified)
    }
}

impl fmt::Display for TlogProof {
    /// The tlog-proof text, ending with the checkpoint note's final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{TLOG_PROOF_HEADER}")?;
        if let Some(extra) = &self.extra {
            writeln!(f, "extra {}", STANDARD.encode(extra))?;
        }
        writeln!(f, "index {}", self.index)?;
        for hash in &self.proof {
            writeln!(f, "{}", STANDARD.encode(hash))?;
        }
        writeln!(f)?;
        self.checkpoint.fmt(f)
    }
}

#[cfg(test)]
mod tests;
