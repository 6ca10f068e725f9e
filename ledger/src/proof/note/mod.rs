//! C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: the envelope
//! that carries the ledger's checkpoints and the co-signatures of chairs and auditors.
//!
//! A note is a text ending in a newline, a blank line, then one or more lines
//! `— <key name> <base64(key id ‖ signature)>`. Verifier keys use the vkey form
//! `name+hex(key id)+base64(0x01 ‖ public key)`, with key id = the first 4 bytes of
//! SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). Private keys use the text form of Go's
//! `golang.org/x/mod/sumdb/note`: `PRIVATE+KEY+name+hex(key id)+base64(0x01 ‖ seed)`,
//! where seed is the 32-byte RFC 8032 private key, so keys move between the two tools.
//!
//! This module must never do IO (except drawing randomness for a new key) and never
//! panic on any input. It trusts nothing in a note until a trusted key's signature
//! over the exact text bytes has verified; signatures are checked with
//! `verify_strict`, which also refuses small-order keys and signature points.

mod cosignature;

pub use cosignature::KeyKind;
use cosignature::COSIGNATURE_V1;

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::ed25519::signature::Signer as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// The largest note accepted or produced, so that a hostile file cannot make a
/// verifier hold or hash an unbounded amount of text.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// The most signature lines accepted on one note; the spec asks for at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte for Ed25519 in key ids, vkeys and private keys.
const ED25519: u8 = 0x01;

/// Every signature line starts with an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The start of a private key in Go's text form.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key could not be made or read. Messages never include secret key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key name {name:?} is not allowed: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("the key text is malformed: {reason}")]
    Malformed { reason: &'static str },
    #[error("the key has signature type 0x{found:02x}; only Ed25519 (0x01) is supported")]
    UnsupportedAlgorithm { found: u8 },
    #[error("the public key is not a valid Ed25519 point")]
    InvalidPublicKey,
    #[error(
        "the key id {stated} written with key {name:?} does not match its computed id {computed}"
    )]
    KeyIdMismatch {
        name: String,
        stated: String,
        computed: String,
    },
    #[error("could not draw random bytes for a new key: {0}")]
    Randomness(String),
}

/// Why a note could not be read, made or verified. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is {len} bytes long; the limit is {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("line {line} is not valid UTF-8")]
    NotUtf8 { line: usize },
    #[error("line {line} ends in a carriage return: notes use LF line endings, not CRLF")]
    CarriageReturn { line: usize },
    #[error("line {line} contains the control character U+{code:04X}; only newline is allowed")]
    ControlCharacter { line: usize, code: u8 },
    #[error("the note text must not be empty and must end with a newline")]
    MissingFinalNewline,
    #[error("there is no blank line separating the note text from its signatures")]
    MissingBlankLine,
    #[error("the note has no signature lines")]
    NoSignatures,
    #[error("the note has more than {max} signature lines")]
    TooManySignatures { max: usize },
    #[error("signature line {line} is malformed: {reason}")]
    MalformedSignature { line: usize, reason: &'static str },
    #[error("key {name:?} ({key_id}) signs the note more than once")]
    DuplicateSignature { name: String, key_id: String },
    #[error("the signature on line {line} by trusted key {name:?} ({key_id}) does not verify")]
    BadSignature {
        line: usize,
        name: String,
        key_id: String,
    },
    #[error("none of the note's {count} signatures is by a trusted key")]
    NoTrustedSignature { count: usize },
}

/// The key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    typed_key_id(name, ED25519, public)
}

/// The key id for a key of signature type `kind` (0x01 Ed25519, 0x04 a C2SP
/// cosignature/v1 key): SHA-256(name ‖ 0x0A ‖ kind ‖ public key)[:4].
fn typed_key_id(name: &str, kind: u8, public: &[u8; 32]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', kind])
        .chain_update(public)
        .finalize();
    let mut id = [0; 4];
    id.copy_from_slice(&digest[..4]);
    id
}

/// Writes a key id as 8 lowercase hex digits, as in vkeys and error messages.
pub fn key_id_hex(id: &[u8; 4]) -> String {
    format!("{:08x}", u32::from_be_bytes(*id))
}

/// A key text states its key id; it must be the one its name and public key give.
fn check_stated_id(name: &str, stated: [u8; 4], computed: [u8; 4]) -> Result<(), KeyError> {
    if computed != stated {
        return Err(KeyError::KeyIdMismatch {
            name: name.to_owned(),
            stated: key_id_hex(&stated),
            computed: key_id_hex(&computed),
        });
    }
    Ok(())
}

/// Key names must be non-empty and contain no Unicode space and no `+`.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("it is empty")
    } else if name.chars().any(char::is_whitespace) {
        Err("it contains a space")
    } else if name.contains('+') {
        Err("it contains '+'")
    } else if name.chars().any(char::is_control) {
        Err("it contains a control character")
    } else {
        Ok(())
    }
}

fn checked_name(name: &str) -> Result<(), KeyError> {
    check_name(name).map_err(|reason| KeyError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

/// Splits `name+hexid+base64` and reads the hex id; the base64 part may itself hold '+'.
fn split_key_text(text: &str) -> Result<(&str, [u8; 4], &str), KeyError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed {
            reason: "expected name+keyid+key",
        });
    };
    checked_name(name)?;
    let bad_id = KeyError::Malformed {
        reason: "the key id is not 8 hex digits",
    };
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_id);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| bad_id)?;
    Ok((name, id.to_be_bytes(), key))
}

/// Decodes `base64(type ‖ 32 bytes)`: 0x01 (Ed25519) or, where `cosigner` allows
/// it, 0x04 (a cosignature/v1 key); returns the type and the bytes.
fn decode_key_of(text: &str, cosigner: bool) -> Result<(u8, [u8; 32]), KeyError> {
    let mut bytes = STANDARD.decode(text).map_err(|_| KeyError::Malformed {
        reason: "the key is not valid standard base64",
    })?;
    let result = match bytes.split_first() {
        Some((&kind, rest)) if kind == ED25519 || (cosigner && kind == COSIGNATURE_V1) => {
            <[u8; 32]>::try_from(rest)
                .map(|key| (kind, key))
                .map_err(|_| KeyError::Malformed {
                    reason: "an Ed25519 key must be 33 bytes: its type then 32 key bytes",
                })
        }
        Some((&found, _)) => Err(KeyError::UnsupportedAlgorithm { found }),
        None => Err(KeyError::Malformed {
            reason: "the key is empty",
        }),
    };
    // The bytes may be a private seed: wipe them before the buffer is freed.
    bytes.fill(0);
    std::hint::black_box(&bytes);
    result
}

/// Decodes `base64(0x01 ‖ 32 bytes)` (a signing key's seed, or a plain verifier key).
fn decode_typed_key(text: &str) -> Result<[u8; 32], KeyError> {
    decode_key_of(text, false).map(|(_, key)| key)
}

/// A key trusted to verify notes: its name, key id and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The name that signature lines by this key carry.
    pub name: String,
    /// The 4-byte id that signatures by this key start with.
    pub key_id: [u8; 4],
    /// The Ed25519 public key.
    pub public: VerifyingKey,
    /// What its signatures are.
    pub kind: KeyKind,
}

impl VerifierKey {
    /// A verifier key for `public` under `name`, with its key id computed.
    pub fn new(name: &str, public: VerifyingKey) -> Result<Self, KeyError> {
        checked_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, public.as_bytes()),
            public,
            kind: KeyKind::Ed25519,
        })
    }

    /// Reads the vkey form `name+hex(key id)+base64(0x01 ‖ public key)`, checking the
    /// name and that the written id is the id computed from the name and key.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let (name, stated, key) = split_key_text(vkey)?;
        let (kind, public) = decode_key_of(key, true)?;
        let public = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::InvalidPublicKey)?;
        let mut key = Self::new(name, public)?;
        if kind == COSIGNATURE_V1 {
            key = key.as_cosigner();
        }
        check_stated_id(name, stated, key.key_id)?;
        Ok(key)
    }

    /// The vkey form, with the key id in lowercase hex.
    pub fn to_vkey_string(&self) -> String {
        let mut typed = vec![match self.kind {
            KeyKind::Ed25519 => ED25519,
            KeyKind::CosignatureV1 => COSIGNATURE_V1,
        }];
        typed.extend_from_slice(self.public.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            key_id_hex(&self.key_id),
            STANDARD.encode(typed)
        )
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey_string())
    }
}

/// A named Ed25519 key that signs notes. Its `Debug` output shows only the name and
/// key id, so it can sit in structs that are logged.
pub struct SigningKey {
    name: String,
    key_id: [u8; 4],
    secret: ed25519_dalek::SigningKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("key_id", &key_id_hex(&self.key_id))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key under `name`, from 32 bytes of operating-system randomness.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness(e.to_string()))?;
        let key = Self::from_bytes(name, &seed);
        seed.fill(0);
        std::hint::black_box(&seed);
        key
    }

    /// The key under `name` whose RFC 8032 private key (seed) is `seed`.
    pub fn from_bytes(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        checked_name(name)?;
        let secret = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, secret.verifying_key().as_bytes()),
            secret,
        })
    }

    /// Reads `PRIVATE+KEY+name+hex(key id)+base64(0x01 ‖ seed)`, as written by
    /// [`SigningKey::to_file_string`] or Go's `note.GenerateKey`. One trailing newline
    /// is allowed, as a file usually has one.
    pub fn from_file_string(text: &str) -> Result<Self, KeyError> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(KeyError::Malformed {
                reason: "a private key starts with PRIVATE+KEY+",
            })?;
        let (name, stated, key) = split_key_text(rest)?;
        let mut seed = decode_typed_key(key)?;
        let key = Self::from_bytes(name, &seed);
        seed.fill(0);
        std::hint::black_box(&seed);
        let key = key?;
        check_stated_id(name, stated, key.key_id)?;
        Ok(key)
    }

    /// The private key text form (without a trailing newline). It holds the secret:
    /// write it only to a file that only the key's owner can read.
    pub fn to_file_string(&self) -> String {
        let mut typed = vec![ED25519];
        typed.extend_from_slice(self.secret.as_bytes());
        let text = format!(
            "{PRIVATE_KEY_PREFIX}{}+{}+{}",
            self.name,
            key_id_hex(&self.key_id),
            STANDARD.encode(&typed)
        );
        typed.fill(0);
        std::hint::black_box(&typed);
        text
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The matching verifier key, to hand to whoever checks this key's notes.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            public: self.secret.verifying_key(),
            kind: KeyKind::Ed25519,
        }
    }

    /// The signature line (`— name base64(key id ‖ signature)\n`) over `text`, which
    /// must be a valid note text.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        Ok(self.signature_over(text).to_line())
    }

    fn signature_over(&self, text: &str) -> NoteSignature {
        // Ed25519 signing in ed25519-dalek cannot fail: its `try_sign` always
        // returns Ok, so `sign` never reaches the panic in the trait's default.
        let signature: Signature = self.secret.sign(text.as_bytes());
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: signature.to_bytes().to_vec(),
        }
    }
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name written on the line.
    pub name: String,
    /// The key id the signature bytes start with.
    pub key_id: [u8; 4],
    /// The signature bytes after the key id (64 for Ed25519; other types differ).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn to_line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.signature);
        format!(
            "{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        )
    }

    fn parse_line(line: &str, line_no: usize) -> Result<Self, NoteError> {
        let malformed = |reason| NoteError::MalformedSignature {
            line: line_no,
            reason,
        };
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed(
            "it does not start with an em dash (U+2014) and a space",
        ))?;
        let (name, blob) = rest
            .split_once(' ')
            .ok_or(malformed("no space between the key name and the signature"))?;
        check_name(name).map_err(|_| {
            malformed("the key name is empty or contains a space, '+' or a control character")
        })?;
        let blob = STANDARD
            .decode(blob)
            .map_err(|_| malformed("the signature is not valid standard base64"))?;
        let (key_id, signature) = blob
            .split_first_chunk::<4>()
            .filter(|(_, signature)| !signature.is_empty())
            .ok_or(malformed("the signature is shorter than 5 bytes"))?;
        Ok(Self {
            name: name.to_owned(),
            key_id: *key_id,
            signature: signature.to_vec(),
        })
    }
}

/// A signature that verified with a trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// When a cosignature/v1 says it was made (POSIX seconds); `None` for a plain
    /// signed-note signature, which carries no time.
    pub timestamp: Option<u64>,
}

/// Refuses bytes that no note may contain: CR and the other control characters
/// except newline. `first_line` numbers the first line of `text` in its note.
fn check_characters(text: &str, first_line: usize) -> Result<(), NoteError> {
    let mut line = first_line;
    for byte in text.bytes() {
        match byte {
            b'\n' => line += 1,
            b'\r' => return Err(NoteError::CarriageReturn { line }),
            code if code < 0x20 => return Err(NoteError::ControlCharacter { line, code }),
            _ => {}
        }
    }
    Ok(())
}

/// A note text must be non-empty, end with a newline and hold no control characters.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            len: text.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    check_characters(text, 1)?;
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    Ok(())
}

/// A signed note: a text and the signature lines under it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Reads a note. Only its form is checked here; call [`Note::verify`] before
    /// trusting the text.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                len: bytes.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let all = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
        })?;
        check_characters(all, 1)?;
        if !all.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        // The text may hold blank lines itself: it ends at the last blank line, and no
        // signature line can be blank, so this split is the only one possible.
        let split = all.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
        let (text, block) = (&all[..=split], &all[split + 2..]);
        let first_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        for (i, line) in block.split_terminator('\n').enumerate() {
            if i == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(NoteSignature::parse_line(line, first_line + i)?);
        }
        if signatures.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signs `text` with each of `keys`, in order. At least one key is needed.
    pub fn sign(text: &str, keys: &[&SigningKey]) -> Result<Self, NoteError> {
        check_text(text)?;
        if keys.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let mut note = Self {
            text: text.to_owned(),
            signatures: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            note.add_signature(key)?;
        }
        Ok(note)
    }

    /// Co-signs: adds `key`'s signature after the existing ones, which are kept as
    /// they are. A key that has already signed this note is refused.
    pub fn add_signature(&mut self, key: &SigningKey) -> Result<(), NoteError> {
        if self
            .signatures
            .iter()
            .any(|s| s.name == key.name && s.key_id == key.key_id)
        {
            return Err(NoteError::DuplicateSignature {
                name: key.name.clone(),
                key_id: key_id_hex(&key.key_id),
            });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let signature = key.signature_over(&self.text);
        let len = self.encoded_len() + signature.to_line().len();
        if len > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                len,
                max: MAX_NOTE_BYTES,
            });
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// The signed text, including its final newline. Trust it only after
    /// [`Note::verify`] has succeeded.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in the order they appear.
    /// Adds a signature line made elsewhere (already verified by the caller), unless
    /// the note already has one by that key.
    pub fn attach_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        let held = self
            .signatures
            .iter()
            .any(|s| s.name == signature.name && s.key_id == signature.key_id);
        if held {
            return Ok(());
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        self.signatures.push(signature);
        Ok(())
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    fn encoded_len(&self) -> usize {
        self.text.len()
            + 1
            + self
                .signatures
                .iter()
                .map(|s| s.to_line().len())
                .sum::<usize>()
    }

    /// Verifies the note against `trusted` keys and returns the signatures that
    /// verified, in note order.
    ///
    /// As the spec requires: a signature whose (name, key id) matches no trusted key
    /// is ignored; one that matches but does not verify rejects the whole note, as
    /// does a trusted key signing twice; and at least one trusted signature must
    /// verify.
    pub fn verify(&self, trusted: &[VerifierKey]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let first_line = self.text.matches('\n').count() + 2;
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        for (i, sig) in self.signatures.iter().enumerate() {
            let mut candidates = trusted
                .iter()
                .filter(|k| k.name == sig.name && k.key_id == sig.key_id)
                .peekable();
            if candidates.peek().is_none() {
                continue;
            }
            let id = key_id_hex(&sig.key_id);
            if verified
                .iter()
                .any(|v| v.name == sig.name && v.key_id == sig.key_id)
            {
                return Err(NoteError::DuplicateSignature {
                    name: sig.name.clone(),
                    key_id: id,
                });
            }
            let mut timestamp = None;
            let ok = candidates.any(|k| match k.kind {
                KeyKind::Ed25519 => Signature::from_slice(&sig.signature).is_ok_and(|signature| {
                    k.public
                        .verify_strict(self.text.as_bytes(), &signature)
                        .is_ok()
                }),
                KeyKind::CosignatureV1 => {
                    timestamp = cosignature::verify_v1(k, &self.text, &sig.signature);
                    timestamp.is_some()
                }
            });
            if !ok {
                return Err(NoteError::BadSignature {
                    line: first_line + i,
                    name: sig.name.clone(),
                    key_id: id,
                });
            }
            verified.push(VerifiedSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
                timestamp,
            });
        }
        if verified.is_empty() {
            return Err(NoteError::NoTrustedSignature {
                count: self.signatures.len(),
            });
        }
        Ok(verified)
    }
}

impl fmt::Display for Note {
    /// The note's exact bytes: text, blank line, signature lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for signature in &self.signatures {
            f.write_str(&signature.to_line())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
