//! Accounts: who may sign in, with which role, for which agency, and whether they
//! may now; their API tokens are `tokens.rs`'s.
//!
//! Kept in `DATA/accounts.json`, beside (never inside) the ledger: a password is not
//! an event and must never be exported. Passwords are stored as Argon2id PHC strings,
//! tokens as SHA-256 digests, and the file is replaced atomically (write a temporary
//! file, fsync it, rename it over, fsync the folder) so a crash leaves the old or the
//! new list, never half of one. Only the command line writes it (`Accounts::edit`,
//! which holds `DATA/accounts.lock` from load to save, so two edits at once cannot
//! lose either); the running service only reads it, and keeps what it must write
//! itself (the last sign-ins) in a file of its own.
//!
//! Every account carries a `stamp`; a session remembers the stamp it signed in under
//! and ends when the account's differs (password changed, account disabled), so
//! those changes take effect on a running service without a restart.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::tokens::{token_digest, Token, TokenRefused};

pub const FILE: &str = "accounts.json";
/// Held (an OS lock) by a command-line edit from loading the file to saving it.
pub const LOCK_FILE: &str = "accounts.lock";
pub const MIN_PASSWORD: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Chair,
    Manager,
    Partner,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Chair, Role::Manager, Role::Partner, Role::Auditor];

    pub fn parse(word: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == word)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Chair => "chair",
            Role::Manager => "manager",
            Role::Partner => "partner",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Chair => "Independent chair",
            Role::Manager => "Business manager",
            Role::Partner => "Partner lead",
            Role::Auditor => "Auditor / inspector",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    /// The agency a partner lead speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Argon2id, PHC string format.
    pub password: String,
    /// A chair's (or other co-signer's) verifier key, for co-signatures made offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vkey: Option<String>,
    /// A disabled account cannot sign in, and its tokens and sessions do not work;
    /// enabling it again brings its tokens back (its sessions stay ended).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Changes whenever the sessions signed in before must end: a new password, the
    /// account disabled. Random, so a name removed and added again does not bring
    /// the old account's sessions back. (0 in files written before it existed.)
    #[serde(default)]
    pub stamp: u64,
    /// When the account was added (absent in files written before it was kept).
    #[serde(default, with = "moment", skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
}

impl Account {
    /// "manager", or "partner for GMP".
    pub fn role_and_agency(&self) -> String {
        match &self.agency {
            Some(agency) => format!("{} for {agency}", self.role.as_str()),
            None => self.role.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accounts {
    pub users: Vec<Account>,
    #[serde(default)]
    pub tokens: Vec<Token>,
}

/// A signed-in principal: what every permission check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub agency: Option<String>,
    /// The account's `stamp` when this principal was resolved: a session holds the
    /// principal it signed in as, and ends as soon as the account's differs.
    pub stamp: u64,
}

/// Which accounts file is in place: the service re-reads the file when this changes.
/// Every save renames a new file over the old, so its inode changes even when two
/// saves fall within the clock's resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    modified: Option<std::time::SystemTime>,
    len: u64,
    inode: u64,
}

impl FileVersion {
    /// `None` when there is no accounts file (or it cannot be looked at).
    pub fn of(data: &Path) -> Option<FileVersion> {
        let meta = fs::metadata(path(data)).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(FileVersion {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}

fn path(data: &Path) -> PathBuf {
    data.join(FILE)
}

/// Checks a user name: it becomes the actor of every event the user records.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok {
        bail!(crate::exit::Usage(format!(
            "user name {name:?} is not allowed: use 1-64 letters, digits, '.', '_', '-' or '@'"
        )));
    }
    Ok(())
}

fn check_password_length(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        bail!(crate::exit::Usage(format!(
            "the password is too short: use at least {MIN_PASSWORD} characters"
        )));
    }
    Ok(())
}

/// A new session stamp, never 0 (the stamp of accounts written before stamps).
fn new_stamp() -> Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(u64::from_le_bytes(bytes).max(1))
}

impl Accounts {
    pub fn load(data: &Path) -> Result<Accounts> {
        let file = path(data);
        match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is not a valid accounts file; restore it from a backup",
                    file.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Accounts::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
        }
    }

    /// Replaces the file atomically and durably.
    pub fn save(&self, data: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).context("encoding the accounts")?;
        replace_file(data, FILE, &bytes)
            .with_context(|| format!("writing {}", path(data).display()))
    }

    /// Loads the file, lets `change` edit it and saves it when `change` succeeds, all
    /// under `LOCK_FILE`, so a second edit at the same time waits and then starts from
    /// this one's result instead of overwriting it.
    pub fn edit<T>(data: &Path, change: impl FnOnce(&mut Accounts) -> Result<T>) -> Result<T> {
        if !data.is_dir() {
            bail!(crate::exit::Usage(format!(
                "there is no folder {}; name the service's data folder with --data DIR",
                data.display()
            )));
        }
        let lock_path = data.join(LOCK_FILE);
        let lock = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .and_then(|file| {
                set_owner_only(&file)?;
                file.lock()?;
                Ok(file)
            })
            .with_context(|| format!("locking {}", lock_path.display()))?;
        let mut accounts = Accounts::load(data)?;
        let result = change(&mut accounts)?;
        accounts.save(data)?;
        drop(lock);
        Ok(result)
    }

    /// The verifier keys registered for accounts (a chair's, for co-signatures);
    /// a key that does not parse is left out.
    pub fn vkeys(&self) -> Vec<ledger::note::VerifierKey> {
        self.users
            .iter()
            .filter_map(|a| ledger::note::VerifierKey::parse(a.vkey.as_deref()?).ok())
            .collect()
    }

    pub fn find(&self, name: &str) -> Option<&Account> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// The account called `name`, or an error that says how to see the names.
    pub fn get(&self, name: &str) -> Result<&Account> {
        self.find(name).ok_or_else(|| no_user(name))
    }

    fn get_mut(&mut self, name: &str) -> Result<&mut Account> {
        self.users
            .iter_mut()
            .find(|u| u.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| no_user(name))
    }

    pub fn add_user(
        &mut self,
        name: &str,
        role: Role,
        agency: Option<String>,
        password: &str,
    ) -> Result<()> {
        check_name(name)?;
        if self.find(name).is_some() {
            bail!(crate::exit::Usage(format!(
                "there is already a user {name}; choose another name"
            )));
        }
        let agency = agency
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        match (role, &agency) {
            (Role::Partner, None) => bail!(crate::exit::Usage(
                "a partner lead needs --agency NAME (the agency they speak for)".into()
            )),
            (Role::Partner, Some(_)) | (_, None) => {}
            (_, Some(_)) => bail!(crate::exit::Usage(
                "--agency is only for partner leads".into()
            )),
        }
        check_password_length(password)?;
        self.users.push(Account {
            name: name.to_owned(),
            role,
            agency,
            password: hash_password(password)?,
            vkey: None,
            disabled: false,
            stamp: new_stamp()?,
            created: Some(Utc::now()),
        });
        Ok(())
    }

    /// Registers the verifier key that checks `user`'s offline co-signatures.
    pub fn set_vkey(&mut self, user: &str, vkey: &str) -> Result<()> {
        let vkey = vkey.trim();
        ledger::note::VerifierKey::parse(vkey).map_err(|e| {
            crate::exit::Usage(format!(
                "{vkey:?} is not a verifier key ({e}); print one with `assure key show --key YOUR.key`"
            ))
        })?;
        self.get_mut(user)?.vkey = Some(vkey.to_owned());
        Ok(())
    }

    /// Sets a new password; every session signed in before ends.
    pub fn set_password(&mut self, name: &str, password: &str) -> Result<()> {
        check_password_length(password)?;
        let hash = hash_password(password)?;
        let stamp = new_stamp()?;
        let account = self.get_mut(name)?;
        account.password = hash;
        account.stamp = stamp;
        Ok(())
    }

    /// Disables or enables an account; `false` when it already was so. Disabling ends
    /// its sessions for good; enabling brings its tokens back.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<bool> {
        let stamp = new_stamp()?;
        let account = self.get_mut(name)?;
        let is_enabled = !account.disabled;
        if is_enabled == enabled {
            return Ok(false);
        }
        account.disabled = !enabled;
        if !enabled {
            account.stamp = stamp;
        }
        Ok(true)
    }

    /// Removes an account and its tokens; returns the account and how many tokens
    /// went with it. The events it recorded stay in the ledger under its name.
    pub fn remove_user(&mut self, name: &str) -> Result<(Account, usize)> {
        let at = self
            .users
            .iter()
            .position(|u| u.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| no_user(name))?;
        let account = self.users.remove(at);
        let before = self.tokens.len();
        self.tokens
            .retain(|t| !t.user.eq_ignore_ascii_case(&account.name));
        Ok((account, before - self.tokens.len()))
    }

    /// What nobody could do on the web any more once `name` is disabled or removed:
    /// a warning when it is the last enabled chair (or the last enabled chair or
    /// manager). Never a refusal: disabling a leaked account must always be possible,
    /// and accounts are managed here, on the command line, not on the web.
    pub fn lockout_warning(&self, name: &str) -> Option<String> {
        let account = self.find(name)?;
        let others = || {
            self.users
                .iter()
                .filter(|u| !u.disabled && !u.name.eq_ignore_ascii_case(name))
        };
        let mut lost = Vec::new();
        if account.role == Role::Chair && !others().any(|u| u.role == Role::Chair) {
            lost.push("raise, escalate or close challenges or co-sign checkpoints");
        }
        if matches!(account.role, Role::Chair | Role::Manager)
            && !others().any(|u| matches!(u.role, Role::Chair | Role::Manager))
        {
            lost.push("import plans, record status or carry over");
        }
        if lost.is_empty() {
            return None;
        }
        Some(format!(
            "{} is the last enabled {}: nobody will be able to {} on the web until another is added (`assure user add`) or enabled (`assure user enable`)",
            account.name,
            if lost.len() == 2 { "chair or manager" } else { account.role.as_str() },
            lost.join(", or ")
        ))
    }

    /// The principal an enabled account stands for; `None` when there is no such
    /// account or it is disabled.
    pub fn principal(&self, name: &str) -> Option<Principal> {
        self.find(name).filter(|a| !a.disabled).map(|a| Principal {
            name: a.name.clone(),
            role: a.role,
            agency: a.agency.clone(),
            stamp: a.stamp,
        })
    }

    /// The principal a session signed in as, if it still stands: the account exists,
    /// is enabled, and has the same role, agency and stamp (no new password since).
    pub fn still_signed_in(&self, signed_in: &Principal) -> Option<Principal> {
        self.principal(&signed_in.name)
            .filter(|now| now == signed_in)
    }

    /// Checks a password (Argon2id, slow on purpose: call off the async threads).
    /// The principal when `password` is right and the account enabled. An unknown
    /// name costs the same Argon2 work as a known one (against a stand-in hash), and
    /// a disabled account the same as an enabled one, so the time taken does not
    /// tell which names exist or which are disabled.
    pub fn check_password(&self, name: &str, password: &str) -> Option<Principal> {
        static STAND_IN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let account = self.find(name);
        let stored = match account {
            Some(account) => Some(account.password.clone()),
            None => STAND_IN
                .get_or_init(|| hash_password("no account has this password").ok())
                .clone(),
        }?;
        let parsed = PasswordHash::new(&stored).ok()?;
        let right = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let account = account.filter(|_| right)?;
        self.principal(&account.name)
    }
}

fn no_user(name: &str) -> anyhow::Error {
    crate::exit::Usage(format!(
        "no user {name}; `assure user list` lists the accounts"
    ))
    .into()
}

/// Replaces `dir/name` with `bytes` atomically and durably, owner-only: a temporary
/// file written and fsynced, renamed over, the folder fsynced.
pub(crate) fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(format!("{name}.new"));
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    set_owner_only(&out)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    fs::rename(&temp, dir.join(name))?;
    fs::File::open(dir)?.sync_all()
}

/// A moment as RFC 3339 text in UTC to the second, e.g. `2025-03-03T14:05:00Z`:
/// the form people editing the file by hand read.
pub(crate) mod moment {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        moment: &Option<DateTime<Utc>>,
        out: S,
    ) -> Result<S::Ok, S::Error> {
        match moment {
            Some(m) => out.serialize_str(&m.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => out.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        input: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(input)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(&text)
            .map(|m| Some(m.with_timezone(&Utc)))
            .map_err(|e| {
                serde::de::Error::custom(format!("{text:?} is not an RFC 3339 moment: {e}"))
            })
    }
}

pub fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| anyhow::anyhow!("encoding the password salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens, API tokens.
pub fn random_id() -> Result<String> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(unix)]
fn set_owner_only(file: &fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_file: &fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Reads a password: from a prompt with echo off when standard input is a terminal,
/// otherwise the first line of standard input. Never from the command line.
pub fn read_password(prompt: &str) -> Result<String> {
    use std::io::IsTerminal as _;
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("{prompt}");
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    if terminal {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(crate::exit::Usage(
            "no password given: type one at the prompt or pipe it on standard input".into()
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod tests;
