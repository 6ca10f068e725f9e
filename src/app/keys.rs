//! The ledger's keys on disk: its signing key (in `DATA/keys/`, or where `init --key`
//! recorded it lives) and its verifier key, which chairs and auditors are given.
//! A chair's or auditor's signing key never enters the data folder.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::checkpoint::SignedCheckpoint;
use ledger::note::{SigningKey, VerifierKey};
use ledger::Ledger;

use crate::exit::Usage;

pub const KEY_FILE: &str = "keys/ledger.key";
pub const KEY_LOCATION: &str = "keys/ledger.key-location";
pub const VKEY_FILE: &str = "keys/ledger.vkey";
/// The verifier keys of witnesses whose cosignatures the ledger keeps (one vkey a
/// line), so bundles can name them among the keys that signed.
pub const COSIGNERS_FILE: &str = "keys/cosigners.vkeys";

/// Writes a private key file readable by its owner only; never overwrites.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    // Its name too: a key lost in a power cut after it was reported made cannot be
    // made again.
    Ok(ledger::storage::sync_parent(path)?)
}

pub fn read_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the signing key {}", path.display()))?;
    SigningKey::from_file_string(text.replace("\r\n", "\n").trim())
        .map_err(|e| Usage(format!("{} is not a signing key: {e}", path.display())).into())
}

pub fn getrandom_fill(bytes: &mut [u8]) -> Result<()> {
    getrandom::fill(bytes)
        .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))
}

/// The ledger's signing key: `--key`, else where `init --key` said, else the one in the folder.
pub fn ledger_key(data: &Path, flag: Option<&Path>) -> Result<SigningKey> {
    if let Some(path) = flag {
        return read_key(path);
    }
    if let Ok(location) = std::fs::read_to_string(data.join(KEY_LOCATION)) {
        return read_key(Path::new(location.trim()));
    }
    read_key(&data.join(KEY_FILE))
}

/// The ledger's own verifier key, as init wrote it.
pub fn ledger_vkey(data: &Path) -> Result<VerifierKey> {
    let path = data.join(VKEY_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    VerifierKey::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))
}

/// Every checkpoint the ledger holds must carry a valid signature by the ledger's own
/// key (other signatures are co-signatures). Returns the first problem found.
pub fn check_stored_signatures(ledger: &Ledger) -> Result<Option<String>> {
    let checkpoints = ledger.checkpoints()?;
    if checkpoints.is_empty() {
        return Ok(None);
    }
    if !ledger.dir().join(VKEY_FILE).is_file() {
        return Ok(Some(format!(
            "the ledger holds checkpoints but {} is missing, so their signatures cannot be checked; restore it from the verifier key you gave chairs and auditors, or write it with `assure key show --key LEDGER-KEY-FILE`",
            VKEY_FILE
        )));
    }
    let vkey = ledger_vkey(ledger.dir())?;
    for signed in checkpoints {
        if let Err(e) = signed.verify(std::slice::from_ref(&vkey)) {
            return Ok(Some(format!(
                "the checkpoint for size {} is not validly signed by the ledger's key: {e}",
                signed.unverified_checkpoint().size
            )));
        }
    }
    Ok(None)
}

/// The newest checkpoint if it covers at least `events` events, else one signed now
/// for the current head (which covers every event).
pub fn checkpoint_covering(
    ledger: &mut ledger::Ledger,
    events: u64,
    key: Option<&Path>,
) -> Result<SignedCheckpoint> {
    if let Some(latest) = ledger.latest_checkpoint()? {
        if latest.unverified_checkpoint().size >= events {
            return Ok(latest);
        }
    }
    let key = ledger_key(ledger.dir(), key)?;
    ledger
        .make_checkpoint(&key)
        .context("making a checkpoint for the current head")
}

/// A signed note (a checkpoint) as saved by people: Windows line endings and a
/// missing or doubled final newline are read as the note they stand for, so a file
/// that went through an editor or an email verifies like the original.
pub fn read_note(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(normalise_note(&bytes))
}

/// `read_note` on bytes already read.
pub fn normalise_note(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes.len() + 1);
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'\r' && tail.first() == Some(&b'\n') {
            rest = tail;
            continue;
        }
        text.push(first);
        rest = tail;
    }
    while text.ends_with(b"\n\n") {
        text.pop();
    }
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text
}

/// The witnesses' verifier keys the ledger keeps (`COSIGNERS_FILE`); none when the
/// file is absent, and a line that does not parse is left out.
pub fn cosigner_vkeys(data: &Path) -> Vec<VerifierKey> {
    std::fs::read_to_string(data.join(COSIGNERS_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| VerifierKey::parse(line.trim()).ok())
        .collect()
}

/// Keeps a witness's verifier key in `COSIGNERS_FILE` (once).
pub fn keep_cosigner_vkey(data: &Path, key: &VerifierKey) -> Result<()> {
    let line = key.to_vkey_string();
    if cosigner_vkeys(data)
        .iter()
        .any(|k| k.to_vkey_string() == line)
    {
        return Ok(());
    }
    let path = data.join(COSIGNERS_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
