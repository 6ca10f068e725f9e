//! The log's side of C2SP tlog-witness: the witnesses this ledger asks to co-sign
//! each new checkpoint (`DATA/keys/witnesses.json`: each one's URL, its
//! cosignature/v1 verifier key and the size it last co-signed), and asking them.
//!
//! A witness co-signs only a checkpoint that extends the last one it co-signed for
//! this log, so the request carries a consistency proof from that size. Its
//! cosignature is checked against its key and kept on the checkpoint the ledger
//! holds. A witness that is unreachable or refuses never undoes the checkpoint: the
//! caller is told which witness did not co-sign and why. The ledger is locked only
//! to build a request and to keep an answer, never while the network is waited on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use ledger::checkpoint::SignedCheckpoint;
use ledger::note::{KeyKind, VerifierKey};
use ledger::Ledger;
use serde::{Deserialize, Serialize};

use crate::exit::Usage;

/// The witnesses a ledger asks, in its data folder.
pub const FILE: &str = "keys/witnesses.json";
/// How long one witness may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a witness (a few cosignature lines).
const ANSWER_LIMIT: u64 = 64 * 1024;

/// One witness this ledger asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Its submission prefix: requests go to `URL/add-checkpoint`.
    pub url: String,
    /// Its cosignature/v1 verifier key.
    pub vkey: String,
    /// The size of the last checkpoint it co-signed for this ledger (0: none yet).
    #[serde(default)]
    pub size: u64,
}

impl Witness {
    fn key(&self) -> Result<VerifierKey> {
        VerifierKey::parse(&self.vkey)
            .map_err(|e| anyhow!("{FILE}: the key of {} is not a verifier key: {e}", self.url))
    }
}

fn path(data: &Path) -> PathBuf {
    data.join(FILE)
}

/// The witnesses configured for the ledger in `data` (none when the file is absent).
pub fn list(data: &Path) -> Result<Vec<Witness>> {
    let path = path(data);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a list of witnesses", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn save(data: &Path, witnesses: &[Witness]) -> Result<()> {
    super::write_durably(&path(data), &serde_json::to_vec_pretty(witnesses)?)
}

/// `witness add URL VKEY`: the ledger will ask this witness to co-sign each new
/// checkpoint. Its key is kept with the co-signers so exports name it.
pub fn add(data: &Path, url: &str, vkey: &str) -> Result<Witness> {
    let url = url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Usage(format!(
            "{url:?} is not a witness's address: give its submission URL, e.g. https://witness.example/ (requests go to URL/add-checkpoint)"
        ))
        .into());
    }
    let key = VerifierKey::parse(vkey.trim())
        .map_err(|e| Usage(format!("{vkey:?} is not a verifier key: {e}")))?;
    if key.kind != KeyKind::CosignatureV1 {
        return Err(Usage(format!(
            "{} is a plain signing key, not a witness's cosignature/v1 key (the witness prints its key with `assure witness init`)",
            key.name
        ))
        .into());
    }
    let mut witnesses = list(data)?;
    if let Some(known) = witnesses
        .iter()
        .find(|w| w.url == url || w.key().is_ok_and(|k| k.name == key.name))
    {
        return Err(Usage(format!(
            "a witness is already configured at {} with key {}: remove it first (`assure witness remove {}`)",
            known.url, known.vkey, known.url
        ))
        .into());
    }
    let witness = Witness {
        url,
        vkey: key.to_vkey_string(),
        size: 0,
    };
    witnesses.push(witness.clone());
    save(data, &witnesses)?;
    super::keys::keep_cosigner_vkey(data, &key)?;
    Ok(witness)
}

/// `witness remove URL-OR-NAME`: the ledger stops asking this witness (the
/// cosignatures it gave stay on their checkpoints).
pub fn remove(data: &Path, which: &str) -> Result<Witness> {
    let mut witnesses = list(data)?;
    let which = which.trim().trim_end_matches('/');
    let Some(at) = witnesses
        .iter()
        .position(|w| w.url == which || w.key().is_ok_and(|k| k.name == which))
    else {
        return Err(Usage(format!(
            "no witness {which:?} is configured; `assure witness list` shows them"
        ))
        .into());
    };
    let removed = witnesses.remove(at);
    save(data, &witnesses)?;
    Ok(removed)
}

/// What one witness made of the latest checkpoint.
#[derive(Debug, Clone)]
pub struct Asked {
    pub url: String,
    pub name: String,
    /// `Ok(size)`: co-signed, and the cosignature kept; `Err(why)`: not co-signed.
    pub outcome: Result<u64, String>,
}

impl std::fmt::Display for Asked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            Ok(size) => write!(
                f,
                "Witness {} co-signed the checkpoint of size {size}.",
                self.name
            ),
            Err(why) => write!(
                f,
                "Witness {} ({}) did not co-sign: {why}",
                self.name, self.url
            ),
        }
    }
}

/// Asks every configured witness to co-sign the ledger's latest checkpoint.
/// `with_ledger` runs a step under the ledger's lock (the command line owns the
/// ledger; the service locks its shared one for each step only).
pub fn ask_all(data: &Path, with_ledger: &mut WithLedger<'_>) -> Result<Vec<Asked>> {
    let mut witnesses = list(data)?;
    let mut asked = Vec::new();
    for witness in &mut witnesses {
        let key = witness.key()?;
        let outcome = ask(witness, &key, with_ledger);
        if let Ok(size) = outcome {
            witness.size = size;
        }
        asked.push(Asked {
            url: witness.url.clone(),
            name: key.name.clone(),
            outcome: outcome.map_err(|e| format!("{e:#}")),
        });
    }
    if !witnesses.is_empty() {
        // Re-read so a witness added or removed meanwhile is not undone.
        let mut now = list(data)?;
        for w in &mut now {
            if let Some(done) = witnesses
                .iter()
                .find(|d| d.url == w.url && d.vkey == w.vkey)
            {
                w.size = w.size.max(done.size);
            }
        }
        save(data, &now)?;
    }
    Ok(asked)
}

/// Runs a step under the ledger's lock.
pub type WithLedger<'a> =
    dyn FnMut(&mut dyn FnMut(&mut Ledger) -> Result<Step>) -> Result<Step> + 'a;

/// A step taken under the ledger's lock.
#[derive(Debug)]
pub enum Step {
    /// The request body for the latest checkpoint, and that checkpoint.
    Request(String, Box<SignedCheckpoint>),
    /// The cosignature was kept on the checkpoint of this size.
    Kept(u64),
}

fn ask(witness: &Witness, key: &VerifierKey, with_ledger: &mut WithLedger<'_>) -> Result<u64> {
    let mut old = witness.size;
    // Once more at most: a witness that answers 409 says which size it holds.
    for _ in 0..2 {
        let Step::Request(body, checkpoint) =
            with_ledger(&mut |ledger| request(ledger, old).map(|(b, c)| Step::Request(b, c)))?
        else {
            return Err(anyhow!("no request was built"));
        };
        match post(&witness.url, &body)? {
            Answer::Cosigned(lines) => {
                let note = format!("{checkpoint}{lines}");
                return match with_ledger(&mut |ledger| {
                    let kept = ledger.attach_cosignature(note.as_bytes(), key)?;
                    Ok(Step::Kept(kept.unverified_checkpoint().size))
                })? {
                    Step::Kept(size) => Ok(size),
                    Step::Request(..) => Err(anyhow!("the cosignature was not kept")),
                };
            }
            Answer::Holds(size) if size != old => old = size,
            Answer::Holds(size) => {
                return Err(anyhow!(
                    "it holds size {size} and still refuses: the ledger's history may have forked — verify the ledger and ask the witness's operator"
                ))
            }
            Answer::Refused(status, why) => {
                return Err(anyhow!("it answered HTTP {status}: {}", why.trim()))
            }
        }
    }
    Err(anyhow!("it kept answering that it holds another size"))
}

/// The add-checkpoint body for the latest checkpoint, from size `old`.
pub fn request(ledger: &Ledger, old: u64) -> Result<(String, Box<SignedCheckpoint>)> {
    let checkpoint = ledger
        .latest_checkpoint()?
        .ok_or_else(|| {
            anyhow!("no checkpoint has been signed yet: sign one (`assure checkpoint`), then ask the witness")
        })?;
    let size = checkpoint.unverified_checkpoint().size;
    if old > size {
        return Err(anyhow!(
            "the witness co-signed size {old}, beyond this ledger's latest checkpoint ({size}): the witness has seen a longer history than this ledger holds — find out why before going on"
        ));
    }
    let proof = if old == 0 || old == size {
        Vec::new()
    } else {
        ledger.consistency_proof(old, size)?
    };
    let body = ledger::witness::request(old, &proof, &checkpoint);
    Ok((body, Box::new(checkpoint)))
}

enum Answer {
    /// 200: the cosignature line(s).
    Cosigned(String),
    /// 409 `text/x.tlog.size`: the size the witness holds for this log.
    Holds(u64),
    Refused(u16, String),
}

fn post(url: &str, body: &str) -> Result<Answer> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let target = format!("{url}/add-checkpoint");
    let mut response = agent
        .post(&target)
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(body.as_bytes())
        .map_err(|e| anyhow!("could not reach {target}: {e}"))?;
    let status = response.status().as_u16();
    let is_size = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/x.tlog.size"));
    let text = response
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_string()
        .map_err(|e| anyhow!("reading the answer of {target}: {e}"))?;
    Ok(match status {
        200 => Answer::Cosigned(text),
        409 if is_size => match text.trim().parse() {
            Ok(size) => Answer::Holds(size),
            Err(_) => Answer::Refused(status, text),
        },
        _ => Answer::Refused(status, text),
    })
}
