//! `witness`: a C2SP tlog-witness on the command line. A third party (the
//! inspectorate, a partner agency) runs `witness add-checkpoint` on requests the
//! log's operator sends (`witness request`); it co-signs only a checkpoint that
//! extends the last one it co-signed for that log, so a history that forks or
//! rewinds gets no cosignature. The logic is `ledger::witness`; this keeps its
//! record durable and speaks its refusals as the HTTP statuses the spec gives.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ledger::note::{SigningKey, VerifierKey};
use ledger::witness::add_checkpoint as add_checkpoint_to;

use super::proofs::trusted_keys;
use crate::app::keys::{read_key, read_note, write_private};
use crate::app::witnessing;
use crate::app::App;
use crate::cli::WitnessFiles;
use crate::exit::Usage;

/// Where `witness init` puts a witness's files in its folder.
const KEY_FILE: &str = "witness.key";
const LOGS_FILE: &str = "logs.vkeys";
const STATE_FILE: &str = "state.json";

/// `witness init --dir W --name NAME`: the witness's own key (printed as its
/// cosignature/v1 verifier key), the logs it witnesses, an empty record.
pub fn init(dir: &Path, name: &str, logs: &[String]) -> Result<()> {
    if dir.join(KEY_FILE).exists() {
        return Err(Usage(format!(
            "{} already holds a witness; a witness keeps one key (its record depends on it)",
            dir.display()
        ))
        .into());
    }
    let logs = if logs.is_empty() {
        Vec::new()
    } else {
        trusted_keys(logs)?
    };
    let key = SigningKey::generate(name)
        .map_err(|e| Usage(format!("cannot make a key named {name:?}: {e}")))?;
    ledger::storage::create_dir_all_durably(dir)?;
    write_private(&dir.join(KEY_FILE), &key.to_file_string())?;
    let lines: String = logs.iter().map(|k| k.to_vkey_string() + "\n").collect();
    crate::app::write_durably(&dir.join(LOGS_FILE), lines.as_bytes())?;
    crate::outln!("{}", key.verifier().as_cosigner().to_vkey_string());
    crate::errln!(
        "Witness {name} made in {}: its key is {KEY_FILE} (readable by you only), the logs it witnesses are in {LOGS_FILE} ({} so far; add a log's key with --log when serving, or a line there), its record will be {STATE_FILE}.\nGive the line above to each log's operator (`assure witness add URL VKEY`), then run `assure witness serve --dir {}`.",
        dir.display(),
        logs.len(),
        dir.display()
    );
    Ok(())
}

/// The witness's key, the logs it trusts and where its record is, from `--dir`
/// and/or the files named.
pub fn witness_files(files: &WitnessFiles) -> Result<(SigningKey, Vec<VerifierKey>, PathBuf)> {
    let in_dir = |name: &str| files.dir.as_ref().map(|d| d.join(name));
    let (Some(key), Some(state)) = (
        files.key.clone().or_else(|| in_dir(KEY_FILE)),
        files.state.clone().or_else(|| in_dir(STATE_FILE)),
    ) else {
        return Err(Usage(
            "say where the witness is: --dir W (made by `assure witness init`), or --key and --state".into(),
        )
        .into());
    };
    let mut logs = files.logs.clone();
    if let Some(listed) = in_dir(LOGS_FILE).filter(|p| p.is_file()) {
        if !std::fs::read_to_string(&listed)?.trim().is_empty() {
            logs.push(listed.to_string_lossy().into_owned());
        }
    }
    if logs.is_empty() {
        return Err(Usage(
            "the witness trusts no log yet: name a log's verifier key with --log VKEY (or add it to DIR/logs.vkeys)".into(),
        )
        .into());
    }
    Ok((read_key(&key)?, trusted_keys(&logs)?, state))
}

/// `witness add-checkpoint`: one request in, a cosignature line out.
pub fn add_checkpoint(files: &WitnessFiles, input: Option<&Path>) -> Result<()> {
    let (key, trusted, state) = witness_files(files)?;
    let mut body = Vec::new();
    match input {
        Some(path) => {
            body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading the request from standard input")?;
        }
    }
    let mut witnessed = crate::app::witness::load(&state)?;
    match add_checkpoint_to(
        &mut witnessed,
        &trusted,
        &key,
        &body,
        crate::app::witness::now(),
    ) {
        Ok(line) => {
            // Remembered before it is answered: a cosignature given is never forgotten.
            crate::app::witness::save(&state, &witnessed)?;
            crate::out!("{line}");
            Ok(())
        }
        Err(refused) => Err(Usage(format!(
            "not co-signed (HTTP {}): {}",
            refused.status,
            refused.body.trim_end()
        ))
        .into()),
    }
}

/// `witness add URL VKEY` (the log's side).
pub fn add(data: &Path, url: &str, vkey: &str) -> Result<()> {
    let witness = witnessing::add(data, url, vkey)?;
    crate::outln!(
        "Each new checkpoint will be sent to {}/add-checkpoint for co-signing (`assure witness ask` sends the latest now).",
        witness.url
    );
    Ok(())
}

/// `witness list` (the log's side).
pub fn list(data: &Path) -> Result<()> {
    let witnesses = witnessing::list(data)?;
    if witnesses.is_empty() {
        crate::outln!("No witnesses yet: add one with `assure witness add URL VKEY`.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = witnesses
        .iter()
        .map(|w| vec![w.url.clone(), w.vkey.clone(), w.size.to_string()])
        .collect();
    crate::out!(
        "{}",
        crate::table::render(&["witness", "key", "co-signed size"], &rows, 60)
    );
    Ok(())
}

/// `witness remove URL-OR-NAME` (the log's side).
pub fn remove(data: &Path, which: &str) -> Result<()> {
    let removed = witnessing::remove(data, which)?;
    crate::outln!(
        "No longer asking {}; the cosignatures it gave stay on their checkpoints.",
        removed.url
    );
    Ok(())
}

/// `witness ask`, and `checkpoint` after signing: every witness asked to co-sign the
/// latest checkpoint. A witness that does not co-sign is reported, never fatal: the
/// checkpoint stands without it.
pub fn ask(app: &mut App) -> Result<()> {
    let data = app.ledger.dir().to_path_buf();
    let ledger = &mut *app.ledger;
    let asked = witnessing::ask_all(&data, &mut |step| step(ledger))?;
    for answer in &asked {
        match answer.outcome {
            Ok(_) => crate::outln!("{answer}"),
            Err(_) => crate::errln!("{answer}"),
        }
    }
    Ok(())
}

/// `witness request --old N`: the body to send to a witness for the latest
/// checkpoint (signing none).
pub fn request(app: &App, old: u64) -> Result<()> {
    let (body, _) = witnessing::request(&app.ledger, old).map_err(|e| Usage(format!("{e:#}")))?;
    crate::out!("{body}");
    Ok(())
}

/// `witness attach FILE --witness VKEY`: the witness's line kept on the checkpoint.
pub fn attach(app: &mut App, file: &Path, witness: &str) -> Result<()> {
    let key = ledger::note::VerifierKey::parse(witness.trim())
        .map_err(|e| Usage(format!("--witness {witness:?} is not a verifier key: {e}")))?;
    let note = read_note(file)?;
    let kept = app
        .ledger
        .attach_cosignature(&note, &key)
        .with_context(|| format!("keeping the witness's cosignature from {}", file.display()))?;
    // So bundles name the witness among the keys that signed.
    crate::app::keys::keep_cosigner_vkey(app.ledger.dir(), &key)?;
    crate::out!("{kept}");
    Ok(())
}
