//! C2SP tlog-cosignature, Ed25519 (`cosignature/v1`): a co-signature that carries
//! the time it was made. Its key is the signer's Ed25519 key under its own key id
//! (vkey type 0x04); the signature is the timestamp (8 bytes, big-endian) then an
//! Ed25519 signature over `cosignature/v1\ntime <timestamp>\n` and the note text.

use ed25519_dalek::{Signature, Signer as _};

use super::*;

/// The vkey type of a C2SP tlog-cosignature (cosignature/v1) Ed25519 key.
pub(super) const COSIGNATURE_V1: u8 = 0x04;

/// What a verifier key's signatures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A signed-note Ed25519 signature over the note text (type 0x01).
    Ed25519,
    /// A C2SP tlog-cosignature (type 0x04): a timestamp and an Ed25519 signature over
    /// `cosignature/v1\ntime <timestamp>\n` and the note text.
    CosignatureV1,
}

impl VerifierKey {
    /// The same public key as a C2SP cosignature/v1 key (vkey type 0x04, its own key id).
    pub fn as_cosigner(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: typed_key_id(&self.name, COSIGNATURE_V1, self.public.as_bytes()),
            public: self.public,
            kind: KeyKind::CosignatureV1,
        }
    }
}

impl SigningKey {
    /// The C2SP cosignature/v1 signature line over `text` (a note text, e.g. a
    /// checkpoint's body) at `timestamp` (POSIX seconds): the key id of this key as
    /// a type 0x04 key, then the timestamp (8 bytes, big-endian) and the Ed25519
    /// signature over `cosignature/v1\ntime <timestamp>\n` followed by `text`.
    pub fn cosign_v1(&self, text: &str, timestamp: u64) -> Result<String, NoteError> {
        check_text(text)?;
        let cosigner = self.verifier().as_cosigner();
        let signature: Signature = self
            .secret
            .sign(cosigned_message(text, timestamp).as_bytes());
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: cosigner.key_id,
            signature: bytes,
        }
        .to_line())
    }
}

/// The message a cosignature/v1 signs over a note text.
fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// The time a cosignature/v1 by `key` over `text` says it was made, when its
/// signature bytes (`timestamp ‖ Ed25519 signature`) verify; `None` otherwise.
pub(super) fn verify_v1(key: &VerifierKey, text: &str, signature: &[u8]) -> Option<u64> {
    let (time, signature) = signature.split_first_chunk::<8>()?;
    let time = u64::from_be_bytes(*time);
    if time > i64::MAX as u64 {
        return None;
    }
    let signature = Signature::from_slice(signature).ok()?;
    key.public
        .verify_strict(cosigned_message(text, time).as_bytes(), &signature)
        .ok()
        .map(|()| time)
}

impl super::VerifiedSignature {
    /// The signer as people read it: its name, and for a cosignature/v1 the time it
    /// vouched for the note ("chair.example/jones, co-signed on 3 March 2025 at 14:02 UTC").
    pub fn described(&self) -> String {
        let when = self
            .timestamp
            .and_then(|t| i64::try_from(t).ok())
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
        match when {
            Some(when) => format!(
                "{}, co-signed on {}",
                self.name,
                when.format("%-d %B %Y at %H:%M UTC")
            ),
            None => self.name.clone(),
        }
    }
}
