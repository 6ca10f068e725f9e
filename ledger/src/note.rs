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
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ED25519])
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

/// Decodes `base64(0x01 ‖ 32 bytes)`.
fn decode_typed_key(text: &str) -> Result<[u8; 32], KeyError> {
    let mut bytes = STANDARD.decode(text).map_err(|_| KeyError::Malformed {
        reason: "the key is not valid standard base64",
    })?;
    let result = match bytes.split_first() {
        Some((&ED25519, rest)) => <[u8; 32]>::try_from(rest).map_err(|_| KeyError::Malformed {
            reason: "an Ed25519 key must be 33 bytes: 0x01 then 32 key bytes",
        }),
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

/// A key trusted to verify notes: its name, key id and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The name that signature lines by this key carry.
    pub name: String,
    /// The 4-byte id that signatures by this key start with.
    pub key_id: [u8; 4],
    /// The Ed25519 public key.
    pub public: VerifyingKey,
}

impl VerifierKey {
    /// A verifier key for `public` under `name`, with its key id computed.
    pub fn new(name: &str, public: VerifyingKey) -> Result<Self, KeyError> {
        checked_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, public.as_bytes()),
            public,
        })
    }

    /// Reads the vkey form `name+hex(key id)+base64(0x01 ‖ public key)`, checking the
    /// name and that the written id is the id computed from the name and key.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let (name, stated, key) = split_key_text(vkey)?;
        let public = decode_typed_key(key)?;
        let public = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::InvalidPublicKey)?;
        let key = Self::new(name, public)?;
        check_stated_id(name, stated, key.key_id)?;
        Ok(key)
    }

    /// The vkey form, with the key id in lowercase hex.
    pub fn to_vkey_string(&self) -> String {
        let mut typed = vec![ED25519];
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
            let ok = Signature::from_slice(&sig.signature).is_ok_and(|signature| {
                candidates.any(|k| {
                    k.public
                        .verify_strict(self.text.as_bytes(), &signature)
                        .is_ok()
                })
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
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::merkle::tests::read_vector;

    const EXAMPLE_TEXT: &str = "This is an example message.\n";

    /// The published example: its verifier key and the note, byte for byte.
    fn example() -> (VerifierKey, String) {
        let file = String::from_utf8(read_vector("c2sp/signed-note-example.txt")).unwrap();
        let (header, note) = file.split_once('\n').unwrap();
        let vkey = header.strip_prefix("vkey: ").unwrap();
        (VerifierKey::parse(vkey).unwrap(), note.to_owned())
    }

    fn rejected(note: &str, key: &VerifierKey) -> NoteError {
        match Note::parse(note.as_bytes()) {
            Err(e) => e,
            Ok(parsed) => match parsed.verify(std::slice::from_ref(key)) {
                Err(e) => e,
                Ok(_) => panic!("a damaged note was accepted: {note:?}"),
            },
        }
    }

    #[test]
    fn the_example_note_verifies() {
        let (key, text) = example();
        assert_eq!(text.len(), 142);
        assert_eq!(key_id_hex(&key.key_id), "530d903a");
        assert_eq!(key.name, "example.com/foo");
        assert_eq!(
            key.to_vkey_string(),
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        );
        let note = Note::parse(text.as_bytes()).unwrap();
        let verified = note.verify(std::slice::from_ref(&key)).unwrap();
        assert_eq!(
            verified,
            vec![VerifiedSignature {
                name: "example.com/foo".into(),
                key_id: [0x53, 0x0d, 0x90, 0x3a]
            }]
        );
        assert_eq!(note.text(), EXAMPLE_TEXT);
        assert_eq!(note.signatures()[0].signature.len(), 64);
        assert_eq!(note.to_string(), text);
    }

    #[test]
    fn every_damaged_copy_of_the_example_is_rejected() {
        let (key, text) = example();
        let flipped_text = text.replacen("example", "exbmple", 1);
        assert!(matches!(
            rejected(&flipped_text, &key),
            NoteError::BadSignature { line: 3, .. }
        ));

        let note = Note::parse(text.as_bytes()).unwrap();
        for bit in [0, 7, 100, 511] {
            let mut damaged = note.clone();
            damaged.signatures[0].signature[bit / 8] ^= 1 << (bit % 8);
            let err = rejected(&damaged.to_string(), &key);
            assert!(
                matches!(err, NoteError::BadSignature { .. }),
                "bit {bit}: {err}"
            );
        }

        let cases = [
            ("hyphen for em dash", text.replace('\u{2014}', "-")),
            ("no blank line", text.replacen("\n\n", "\n", 1)),
            ("CRLF", text.replace('\n', "\r\n")),
            ("no final newline", text.trim_end_matches('\n').to_owned()),
            (
                "control character",
                text.replacen("example", "exa\u{7}mple", 1),
            ),
            ("tab", text.replacen(' ', "\t", 1)),
            (
                "other name, same id",
                text.replace("— example.com/foo", "— example.com/bar"),
            ),
            ("other id, same name", text.replace("Uw2QOkn8", "Uw2ROkn8")),
            ("empty", String::new()),
            ("signatures only", text.replacen(EXAMPLE_TEXT, "", 1)),
        ];
        for (what, damaged) in cases {
            let err = rejected(&damaged, &key);
            assert!(!err.to_string().is_empty(), "{what}");
        }
        let expect = |what: &str, damaged: &str, check: fn(&NoteError) -> bool| {
            let err = rejected(damaged, &key);
            assert!(check(&err), "{what}: unexpected error {err:?}");
        };
        expect("CRLF", &text.replace('\n', "\r\n"), |e| {
            matches!(e, NoteError::CarriageReturn { line: 1 })
        });
        expect("bell", &text.replacen("example", "exa\u{7}mple", 1), |e| {
            matches!(e, NoteError::ControlCharacter { line: 1, code: 7 })
        });
        expect("no final newline", text.trim_end_matches('\n'), |e| {
            matches!(e, NoteError::MissingFinalNewline)
        });
        expect("no blank line", &text.replacen("\n\n", "\n", 1), |e| {
            matches!(e, NoteError::MissingBlankLine)
        });
        expect("hyphen", &text.replace('\u{2014}', "-"), |e| {
            matches!(e, NoteError::MalformedSignature { line: 3, .. })
        });
        expect(
            "other name",
            &text.replace("— example.com/foo", "— example.com/bar"),
            |e| matches!(e, NoteError::NoTrustedSignature { count: 1 }),
        );
        expect("other id", &text.replace("Uw2QOkn8", "Uw2ROkn8"), |e| {
            matches!(e, NoteError::NoTrustedSignature { count: 1 })
        });
    }

    #[test]
    fn key_names_are_checked() {
        let key = SigningKey::from_bytes("ok.example/name", &[1; 32]).unwrap();
        let public = key.verifier().public;
        for bad in ["", "a b", "a\u{a0}b", "a\u{2003}b", "a+b", "a\tb"] {
            assert!(VerifierKey::new(bad, public).is_err(), "{bad:?}");
            assert!(SigningKey::from_bytes(bad, &[1; 32]).is_err(), "{bad:?}");
        }
        let vkey = key.verifier().to_vkey_string();
        assert_eq!(VerifierKey::parse(&vkey).unwrap(), key.verifier());
        let renamed = vkey.replacen("ok.example/name", "ok.example/other", 1);
        assert!(matches!(
            VerifierKey::parse(&renamed),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        for bad in [
            "",
            "name",
            "name+1234abcd",
            " name+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
            "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2kAA==",
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ] {
            assert!(VerifierKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rfc8032_test_key_gives_its_public_key() {
        // RFC 8032 §7.1, TEST 1.
        let seed = [
            0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
            0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
            0x1c, 0xae, 0x7f, 0x60,
        ];
        let key = SigningKey::from_bytes("rfc8032.example/test1", &seed).unwrap();
        let public: String = key
            .verifier()
            .public
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            public,
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn private_key_text_round_trips() {
        let key = SigningKey::generate("assure.example/ledger").unwrap();
        let text = key.to_file_string();
        assert!(text.starts_with("PRIVATE+KEY+assure.example/ledger+"));
        let back = SigningKey::from_file_string(&format!("{text}\n")).unwrap();
        assert_eq!(back.verifier(), key.verifier());
        let wrong_id = text.replacen(&key_id_hex(&key.key_id()), "00000000", 1);
        assert!(SigningKey::from_file_string(&wrong_id).is_err());
        assert!(SigningKey::from_file_string(&text[12..]).is_err());
        assert!(SigningKey::from_file_string(&key.verifier().to_vkey_string()).is_err());
        let debug = format!("{key:?}");
        assert!(
            !debug.contains(&text[text.len() - 20..]),
            "Debug must not show the seed"
        );
        // A key of the wrong length or type is refused without echoing it.
        let short = "PRIVATE+KEY+example.com/foo+530d903a+AQ==";
        assert!(matches!(
            SigningKey::from_file_string(short),
            Err(KeyError::Malformed { .. })
        ));
        let typed = STANDARD.encode([2; 33]);
        assert!(matches!(
            SigningKey::from_file_string(&format!("PRIVATE+KEY+k+00000000+{typed}")),
            Err(KeyError::UnsupportedAlgorithm { found: 2 })
        ));
    }

    #[test]
    fn the_parse_only_examples_parse() {
        let bytes = read_vector("c2sp/parse-only/signed-note-quasimodo.txt");
        let note = Note::parse(&bytes).unwrap();
        assert_eq!(note.text().len(), 88);
        let lines: Vec<&str> = note.text().lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], "");
        assert!(note.text().contains('è'));
        assert_eq!(note.signatures().len(), 1);
        let sig = &note.signatures()[0];
        assert_eq!(sig.name, "quasimodo.example/salvatore");
        assert_eq!(key_id_hex(&sig.key_id), "367ba04b");
        assert_eq!(4 + sig.signature.len(), 68);
        assert_eq!(note.to_string().as_bytes(), &bytes[..]);

        let bytes = read_vector("c2sp/parse-only/tlog-checkpoint-behind-the-sofa.txt");
        let note = Note::parse(&bytes).unwrap();
        assert_eq!(note.text().lines().count(), 3);
        let sig = &note.signatures()[0];
        assert_eq!(sig.name, "example.com/behind-the-sofa");
        assert_eq!(key_id_hex(&sig.key_id), "033de0ae");
        assert_eq!(4 + sig.signature.len(), 68);
        assert_eq!(note.to_string().as_bytes(), &bytes[..]);
        // Without the key, nothing in it can be trusted.
        let (example_key, _) = example();
        assert!(note.verify(&[example_key]).is_err());
    }

    #[test]
    fn sign_verify_and_cosign() {
        let log = SigningKey::generate("assure.example/log").unwrap();
        let chair = SigningKey::generate("assure.example/chair").unwrap();
        let text = "a text\n\nwith a blank line and ünïcode —\n";
        let mut note = Note::sign(text, &[&log]).unwrap();
        assert_eq!(note.verify(&[log.verifier()]).unwrap().len(), 1);
        assert!(note.verify(&[chair.verifier()]).is_err());

        note.add_signature(&chair).unwrap();
        assert!(matches!(
            note.add_signature(&log),
            Err(NoteError::DuplicateSignature { .. })
        ));
        let reread = Note::parse(note.to_string().as_bytes()).unwrap();
        assert_eq!(reread, note);
        assert_eq!(reread.text(), text);
        for trusted in [vec![log.verifier()], vec![chair.verifier()]] {
            assert_eq!(reread.verify(&trusted).unwrap().len(), 1);
        }
        let both = reread.verify(&[chair.verifier(), log.verifier()]).unwrap();
        let names: Vec<&str> = both.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["assure.example/log", "assure.example/chair"]);

        // The signature line from `SigningKey::sign` is the one in the note.
        assert_eq!(
            note.to_string(),
            format!(
                "{text}\n{}{}",
                log.sign(text).unwrap(),
                chair.sign(text).unwrap()
            )
        );

        // A bad signature from a trusted key rejects the note even beside a good one.
        let mut forged = reread.clone();
        forged.signatures[1].signature[0] ^= 1;
        assert!(forged.verify(&[log.verifier()]).is_ok());
        assert!(matches!(
            forged.verify(&[log.verifier(), chair.verifier()]),
            Err(NoteError::BadSignature { line: 6, .. })
        ));

        // A trusted key signing twice is refused; an unknown one twice is ignored.
        let twice = format!("{note}{}", log.sign(text).unwrap());
        let twice = Note::parse(twice.as_bytes()).unwrap();
        assert!(matches!(
            twice.verify(&[log.verifier()]),
            Err(NoteError::DuplicateSignature { .. })
        ));
        assert!(twice.verify(&[chair.verifier()]).is_ok());
    }

    #[test]
    fn bad_texts_cannot_be_signed() {
        let key = SigningKey::from_bytes("k", &[3; 32]).unwrap();
        for bad in ["", "no newline", "cr\r\n", "nul\0\n"] {
            assert!(Note::sign(bad, &[&key]).is_err(), "{bad:?}");
            assert!(key.sign(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            Note::sign("ok\n", &[]),
            Err(NoteError::NoSignatures)
        ));
        let huge = "x".repeat(MAX_NOTE_BYTES) + "\n";
        assert!(matches!(
            Note::sign(&huge, &[&key]),
            Err(NoteError::TooLarge { .. })
        ));
    }

    #[test]
    fn limits_on_size_and_signature_count() {
        let key = SigningKey::from_bytes("k", &[3; 32]).unwrap();
        let line = key.sign("t\n").unwrap();
        let at_limit = format!("t\n\n{}", line.repeat(MAX_SIGNATURES));
        assert_eq!(
            Note::parse(at_limit.as_bytes()).unwrap().signatures().len(),
            100
        );
        let over = format!("t\n\n{}", line.repeat(MAX_SIGNATURES + 1));
        assert!(matches!(
            Note::parse(over.as_bytes()),
            Err(NoteError::TooManySignatures { max: 100 })
        ));
        let big = format!("{}\n\n{line}", "x".repeat(MAX_NOTE_BYTES));
        assert!(matches!(
            Note::parse(big.as_bytes()),
            Err(NoteError::TooLarge { .. })
        ));
        assert!(matches!(
            Note::parse(b"ok\n\n\xff\n"),
            Err(NoteError::NotUtf8 { line: 3 })
        ));
        assert!(matches!(
            Note::parse(b"ok\n\n"),
            Err(NoteError::NoSignatures)
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(note) = Note::parse(&bytes) {
                let written = note.to_string();
                prop_assert_eq!(written.as_bytes(), &bytes[..]);
            }
        }

        #[test]
        fn damaged_example_never_panics_and_never_verifies_changed_text(
            edits in proptest::collection::vec((0usize..200, any::<u8>()), 1..4),
        ) {
            let (key, text) = example();
            let mut bytes = text.into_bytes();
            for (at, byte) in edits {
                let at = at % (bytes.len() + 1);
                bytes.insert(at, byte);
            }
            if let Ok(note) = Note::parse(&bytes) {
                if note.verify(std::slice::from_ref(&key)).is_ok() {
                    prop_assert_eq!(note.text(), EXAMPLE_TEXT);
                }
            }
        }
    }
}
