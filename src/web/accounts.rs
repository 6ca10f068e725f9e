//! Accounts and API tokens: who may sign in, with which role, for which agency.
//!
//! Kept in `DATA/accounts.json`, beside (never inside) the ledger: a password is not
//! an event and must never be exported. Passwords are stored as Argon2id PHC strings,
//! tokens as SHA-256 digests, and the file is replaced atomically (write a temporary
//! file, fsync it, rename it over, fsync the folder) so a crash leaves the old or the
//! new list, never half of one.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub const FILE: &str = "accounts.json";
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub user: String,
    /// SHA-256 of the token, hex; the token itself is shown once and never stored.
    pub sha256: String,
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
}

fn path(data: &Path) -> PathBuf {
    data.join(FILE)
}

pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    ledger::hex::hex(&digest)
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
        let file = path(data);
        let temp = data.join(format!("{FILE}.new"));
        let bytes = serde_json::to_vec_pretty(self).context("encoding the accounts")?;
        let write = || -> std::io::Result<()> {
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temp)?;
            set_owner_only(&out)?;
            out.write_all(&bytes)?;
            out.sync_all()?;
            fs::rename(&temp, &file)?;
            fs::File::open(data)?.sync_all()
        };
        write().with_context(|| format!("writing {}", file.display()))
    }

    pub fn find(&self, name: &str) -> Option<&Account> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
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
        if password.chars().count() < MIN_PASSWORD {
            bail!(crate::exit::Usage(format!(
                "the password is too short: use at least {MIN_PASSWORD} characters"
            )));
        }
        self.users.push(Account {
            name: name.to_owned(),
            role,
            agency,
            password: hash_password(password)?,
            vkey: None,
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
        let Some(account) = self
            .users
            .iter_mut()
            .find(|u| u.name.eq_ignore_ascii_case(user))
        else {
            bail!(crate::exit::Usage(format!(
                "no user {user}; add one with `assure user add`"
            )));
        };
        account.vkey = Some(vkey.to_owned());
        Ok(())
    }

    /// Makes a new bearer token for `user`; returns the token (shown once).
    pub fn new_token(&mut self, user: &str) -> Result<String> {
        let Some(account) = self.find(user) else {
            bail!(crate::exit::Usage(format!(
                "no user {user}; add one with `assure user add`"
            )));
        };
        let user = account.name.clone();
        let token = format!("assure_{}", random_id()?);
        self.tokens.push(Token {
            user,
            sha256: token_digest(&token),
        });
        Ok(token)
    }

    pub fn principal(&self, name: &str) -> Option<Principal> {
        self.find(name).map(|a| Principal {
            name: a.name.clone(),
            role: a.role,
            agency: a.agency.clone(),
        })
    }

    /// The principal a bearer token stands for.
    pub fn by_token(&self, token: &str) -> Option<Principal> {
        let digest = token_digest(token);
        let record = self.tokens.iter().find(|t| t.sha256 == digest)?;
        self.principal(&record.user)
    }

    /// Checks a password (Argon2id, slow on purpose: call off the async threads).
    /// The principal when `password` is right. An unknown name costs the same
    /// Argon2 work as a known one (against a stand-in hash), so the time taken does
    /// not tell which names exist.
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
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_round_trip_and_the_file_holds_neither() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut accounts = Accounts::default();
        accounts
            .add_user("chair", Role::Chair, None, "correct horse battery")
            .expect("add");
        let token = accounts.new_token("chair").expect("token");
        accounts.save(dir.path()).expect("save");
        let text = fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert!(!text.contains("correct horse") && !text.contains(&token));
        assert!(text.contains("$argon2id$"));
        let loaded = Accounts::load(dir.path()).expect("load");
        assert_eq!(
            loaded
                .check_password("CHAIR", "correct horse battery")
                .map(|p| p.role),
            Some(Role::Chair)
        );
        assert!(loaded.check_password("chair", "wrong password!").is_none());
        assert_eq!(
            loaded.by_token(&token).map(|p| p.name),
            Some("chair".into())
        );
        assert!(loaded.by_token("assure_guess").is_none());
    }

    #[test]
    fn bad_accounts_are_refused_with_a_reason() {
        let mut accounts = Accounts::default();
        let err = |r: Result<()>| r.expect_err("refused").to_string();
        assert!(
            err(accounts.add_user("p", Role::Partner, None, "long enough pw")).contains("--agency")
        );
        assert!(err(accounts.add_user("m", Role::Manager, None, "short")).contains("too short"));
        assert!(
            err(accounts.add_user("../x", Role::Manager, None, "long enough pw"))
                .contains("not allowed")
        );
        accounts
            .add_user("m", Role::Manager, None, "long enough pw")
            .expect("add");
        assert!(
            err(accounts.add_user("M", Role::Auditor, None, "long enough pw")).contains("already")
        );
    }
}
