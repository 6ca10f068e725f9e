//! Checkpoints kept in the ledger: the signed tree heads given to boards and
//! inspectors, with every co-signature added later.
//!
//! A checkpoint is only ever made for the ledger's current size and root (computed
//! from the tree, never typed in), sizes never decrease, and a co-signature is
//! accepted only on a checkpoint the ledger already holds, so there can never be two
//! inconsistent checkpoints in one ledger. Stored under `c ‖ size (big-endian)`.

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::note::{SigningKey, VerifierKey};
use crate::storage::Store as _;

fn checkpoint_key(size: u64) -> [u8; 9] {
    let mut key = [b'c'; 9];
    key[1..].copy_from_slice(&size.to_be_bytes());
    key
}

fn parse_stored(size: u64, bytes: &[u8]) -> Result<SignedCheckpoint> {
    SignedCheckpoint::parse(bytes)
        .map_err(|e| Error::corruption(None, format!("stored checkpoint for size {size}: {e}")))
}

impl Ledger {
    /// Every stored checkpoint, smallest size first.
    pub fn checkpoints(&self) -> Result<Vec<SignedCheckpoint>> {
        let mut found = Vec::new();
        self.store_scan(
            &checkpoint_key(0),
            &checkpoint_key(u64::MAX),
            &mut |key, value| {
                let size = key
                    .get(1..9)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u64::from_be_bytes);
                found.push(parse_stored(size, value)?);
                Ok(true)
            },
        )?;
        Ok(found)
    }

    /// The newest stored checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        // The last key in the checkpoint range: one read, however many are held.
        let found = self
            .store
            .last_in(&checkpoint_key(0), &checkpoint_key(u64::MAX))?;
        found
            .map(|(key, value)| {
                let size = key
                    .get(1..9)
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u64::from_be_bytes);
                parse_stored(size, &value)
            })
            .transpose()
    }

    /// Signs the current tree head with `key` and keeps it. Signing the same size
    /// again adds the signature to the checkpoint already held.
    pub fn make_checkpoint(&mut self, key: &SigningKey) -> Result<SignedCheckpoint> {
        let size = self.size();
        let checkpoint = Checkpoint::new(key.name(), size, self.root());
        let signed = match self.store_get(&checkpoint_key(size))? {
            Some(bytes) => {
                let mut held = parse_stored(size, &bytes)?;
                if held.unverified_checkpoint() != &checkpoint {
                    return Err(Error::corruption(
                        None,
                        format!("a different checkpoint is already stored for size {size}"),
                    ));
                }
                if !held
                    .note()
                    .signatures()
                    .iter()
                    .any(|s| s.key_id == key.key_id() && s.name == key.name())
                {
                    held.add_signature(key)
                        .map_err(|e| Error::Rejected(e.to_string()))?;
                }
                held
            }
            None => SignedCheckpoint::sign(&checkpoint, &[key])
                .map_err(|e| Error::Rejected(e.to_string()))?,
        };
        self.store_put(&checkpoint_key(size), signed.to_string().into_bytes())?;
        Ok(signed)
    }

    /// Keeps a checkpoint signed elsewhere for this ledger's events (a restore's,
    /// from the bundle it came from): refused unless its tree is this ledger's tree
    /// at its size, or when a different checkpoint is held for that size.
    pub fn keep_checkpoint(&mut self, signed: &SignedCheckpoint) -> Result<()> {
        let checkpoint = signed.unverified_checkpoint();
        if checkpoint.size > self.size() {
            return Err(Error::Rejected(format!(
                "the checkpoint covers {} events but the ledger holds {}",
                checkpoint.size,
                self.size()
            )));
        }
        if self.root_at(checkpoint.size)? != checkpoint.root {
            return Err(Error::Rejected(format!(
                "the checkpoint's root is not this ledger's root at size {}",
                checkpoint.size
            )));
        }
        if let Some(bytes) = self.store_get(&checkpoint_key(checkpoint.size))? {
            if parse_stored(checkpoint.size, &bytes)?.unverified_checkpoint() != checkpoint {
                return Err(Error::Rejected(format!(
                    "a different checkpoint is already held for size {}",
                    checkpoint.size
                )));
            }
        }
        self.store_put(
            &checkpoint_key(checkpoint.size),
            signed.to_string().into_bytes(),
        )
    }

    /// Adds `key`'s co-signature to a checkpoint this ledger holds, given as the
    /// signed note someone was handed. Refuses a checkpoint the ledger never made.
    pub fn cosign_checkpoint(&mut self, note: &[u8], key: &SigningKey) -> Result<SignedCheckpoint> {
        let given = SignedCheckpoint::parse(note)
            .map_err(|e| Error::Rejected(format!("not a signed checkpoint: {e}")))?;
        let wanted = given.unverified_checkpoint();
        let Some(bytes) = self.store_get(&checkpoint_key(wanted.size))? else {
            return Err(Error::Rejected(format!(
                "this ledger holds no checkpoint for size {}; co-sign only checkpoints it made",
                wanted.size
            )));
        };
        let mut held = parse_stored(wanted.size, &bytes)?;
        if held.unverified_checkpoint() != wanted {
            return Err(Error::Rejected(format!(
                "the checkpoint for size {} differs from the one this ledger holds: refusing to co-sign it",
                wanted.size
            )));
        }
        held.add_signature(key)
            .map_err(|e| Error::Rejected(format!("co-signing: {e}")))?;
        self.store_put(&checkpoint_key(wanted.size), held.to_string().into_bytes())?;
        Ok(held)
    }

    /// Keeps a co-signature made offline by `signer` (a key the caller trusts, e.g.
    /// the chair's registered verifier key): `note` must be a checkpoint this ledger
    /// holds, carrying a valid signature by `signer`; that signature line is added
    /// to the held checkpoint. Nothing else in `note` is taken.
    pub fn attach_cosignature(
        &mut self,
        note: &[u8],
        signer: &VerifierKey,
    ) -> Result<SignedCheckpoint> {
        let given = SignedCheckpoint::parse(note)
            .map_err(|e| Error::Rejected(format!("not a signed checkpoint: {e}")))?;
        let wanted = given.unverified_checkpoint();
        let Some(bytes) = self.store_get(&checkpoint_key(wanted.size))? else {
            return Err(Error::Rejected(format!(
                "this ledger holds no checkpoint for size {}; co-sign one it made",
                wanted.size
            )));
        };
        let mut held = parse_stored(wanted.size, &bytes)?;
        if held.unverified_checkpoint() != wanted {
            return Err(Error::Rejected(format!(
                "the checkpoint for size {} differs from the one this ledger holds",
                wanted.size
            )));
        }
        let verified = given
            .note()
            .verify(std::slice::from_ref(signer))
            .map_err(|e| {
                Error::Rejected(format!(
                    "no valid signature by {} ({e}); sign the checkpoint with your own key",
                    signer.name
                ))
            })?;
        let Some(line) = given.note().signatures().iter().find(|s| {
            verified
                .iter()
                .any(|v| v.name == s.name && v.key_id == s.key_id)
        }) else {
            return Err(Error::Rejected(format!("no signature by {}", signer.name)));
        };
        held.attach_signature(line.clone())
            .map_err(|e| Error::Rejected(format!("co-signing: {e}")))?;
        self.store_put(&checkpoint_key(wanted.size), held.to_string().into_bytes())?;
        Ok(held)
    }
}
