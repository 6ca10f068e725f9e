//! API tokens: bearer tokens for a user's scripts, kept in the accounts file.
//!
//! A token is shown once and stored only as its SHA-256 digest, with a label (what it
//! is for, unique among its user's tokens), the moment it was made and an optional
//! expiry. People name a token by its label or its short id (the digest's first 8
//! hex digits), never by the token. A token works only while its account exists and
//! is enabled, and until it expires; revoking it deletes it. Nothing is written when
//! a token is used: the accounts file is the command line's alone.

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::accounts::{moment, random_id, Accounts, Principal};
use crate::exit::Usage;

/// The longest label, in characters.
const MAX_LABEL: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub user: String,
    /// SHA-256 of the token, hex; the token itself is shown once and never stored.
    pub sha256: String,
    /// What the token is for ("token 1" unless given), unique among the user's
    /// tokens; empty for tokens made before labels were kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// When it was made (absent for tokens made before this was kept).
    #[serde(default, with = "moment", skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// The last moment the token works (whole seconds, UTC); `None`: it never expires.
    #[serde(default, with = "moment", skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}

impl Token {
    /// The short id people name it by: the first 8 hex digits of its digest.
    pub fn id(&self) -> &str {
        self.sha256.get(..8).unwrap_or(&self.sha256)
    }

    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|end| now > end)
    }

    /// `"ci"` (id 1a2b3c4d), as messages name a token.
    pub fn described(&self) -> String {
        if self.label.is_empty() {
            format!("the unlabelled token (id {})", self.id())
        } else {
            format!("{:?} (id {})", self.label, self.id())
        }
    }
}

/// Why a bearer token was not accepted: what the API's 401 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefused {
    /// Never made here, revoked, or its account removed or disabled: one answer for
    /// all, so a token's holder learns nothing about the accounts.
    Unknown,
    Expired(DateTime<Utc>),
}

impl TokenRefused {
    pub fn message(&self) -> String {
        match self {
            TokenRefused::Unknown => "this token is not accepted (revoked, its account disabled or removed, or never made here); ask for a new one, made with `assure token new NAME`".to_owned(),
            TokenRefused::Expired(at) => format!(
                "this token expired at {}; ask for a new one, made with `assure token new NAME`",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    ledger::hex::hex(&digest)
}

fn check_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        bail!(Usage(format!(
            "--label {label:?} is not allowed: use 1-{MAX_LABEL} characters, on one line"
        )));
    }
    Ok(label.to_owned())
}

impl Accounts {
    /// Makes a new bearer token for `user`, labelled `label` (else "token N"),
    /// working until `expires`. Returns the token (shown once) and its record.
    pub fn new_token(
        &mut self,
        user: &str,
        label: Option<&str>,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(String, Token)> {
        let account = self.get(user)?;
        if account.disabled {
            bail!(Usage(format!(
                "{} is disabled, so a token would not work; `assure user enable {}` first",
                account.name, account.name
            )));
        }
        let user = account.name.clone();
        let taken = |label: &str| {
            self.tokens_of(&user)
                .any(|t| t.label.eq_ignore_ascii_case(label))
        };
        let label = match label {
            Some(label) => {
                let label = check_label(label)?;
                if taken(&label) {
                    bail!(Usage(format!(
                        "{user} already has a token labelled {label:?}; choose another label (`assure token list {user}` shows them)"
                    )));
                }
                label
            }
            None => (self.tokens_of(&user).count() + 1..)
                .map(|n| format!("token {n}"))
                .find(|l| !taken(l))
                .unwrap_or_default(),
        };
        // Kept to the second, as the file writes them.
        let whole_seconds = |m: DateTime<Utc>| DateTime::from_timestamp(m.timestamp(), 0);
        let (now, expires) = (
            whole_seconds(now).unwrap_or(now),
            expires.and_then(whole_seconds),
        );
        if let Some(end) = expires.filter(|end| *end <= now) {
            bail!(Usage(format!(
                "--expires {} is already past; give a later date",
                end.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        let token = format!("assure_{}", random_id()?);
        let record = Token {
            user,
            sha256: token_digest(&token),
            label,
            created: Some(now),
            expires,
        };
        self.tokens.push(record.clone());
        Ok((token, record))
    }

    /// `user`'s tokens, oldest first.
    pub fn tokens_of<'a>(&'a self, user: &'a str) -> impl Iterator<Item = &'a Token> + 'a {
        self.tokens
            .iter()
            .filter(move |t| t.user.eq_ignore_ascii_case(user))
    }

    /// Deletes `user`'s token named `which`: its label (any case) or its short id (or
    /// a longer prefix of its digest). Refused, listing the user's tokens, when
    /// nothing or more than one token matches.
    pub fn revoke_token(&mut self, user: &str, which: &str) -> Result<Token> {
        let user = self.get(user)?.name.clone();
        let which = which.trim();
        let hex = which.to_ascii_lowercase();
        let matches = |t: &Token| {
            t.user.eq_ignore_ascii_case(&user)
                && ((!t.label.is_empty() && t.label.eq_ignore_ascii_case(which))
                    || (hex.len() >= 8 && t.sha256.starts_with(&hex)))
        };
        let found: Vec<usize> = (0..self.tokens.len())
            .filter(|&i| matches(&self.tokens[i]))
            .collect();
        let listed = || {
            let all: Vec<String> = self.tokens_of(&user).map(Token::described).collect();
            if all.is_empty() {
                format!("{user} has no tokens")
            } else {
                format!("{user}'s tokens: {}", all.join(", "))
            }
        };
        match found.as_slice() {
            [one] => Ok(self.tokens.remove(*one)),
            [] => bail!(Usage(format!(
                "{user} has no token labelled {which:?} or with that id; {}",
                listed()
            ))),
            _ => bail!(Usage(format!(
                "{which:?} names more than one of {user}'s tokens; give its full label or a longer id. {}",
                listed()
            ))),
        }
    }

    /// The principal a bearer token stands for, or why it is refused.
    pub fn by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Principal, TokenRefused> {
        let digest = token_digest(token);
        let record = self
            .tokens
            .iter()
            .find(|t| t.sha256 == digest)
            .ok_or(TokenRefused::Unknown)?;
        let principal = self.principal(&record.user).ok_or(TokenRefused::Unknown)?;
        match record.expires {
            Some(end) if now > end => Err(TokenRefused::Expired(end)),
            _ => Ok(principal),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::web::accounts::Role;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn accounts() -> Accounts {
        let mut accounts = Accounts::default();
        for name in ["mgr", "aud"] {
            accounts
                .add_user(name, Role::Manager, None, "correct horse battery")
                .unwrap();
        }
        accounts
    }

    #[test]
    fn a_token_is_refused_from_its_expiry_on_and_a_past_expiry_is_refused() {
        let mut accounts = accounts();
        let now = at("2025-03-03T12:00:00Z");
        let end = at("2025-03-31T23:59:59Z");
        let (token, record) = accounts
            .new_token(
                "mgr",
                None,
                Some(end + chrono::Duration::microseconds(999_999)),
                now,
            )
            .unwrap();
        assert_eq!((record.created, record.expires), (Some(now), Some(end)));
        assert!(accounts.by_token(&token, end).is_ok(), "its last second");
        assert_eq!(
            accounts.by_token(&token, at("2025-04-01T00:00:00Z")),
            Err(TokenRefused::Expired(end))
        );
        assert!(TokenRefused::Expired(end)
            .message()
            .contains("expired at 2025-03-31 23:59 UTC"));
        let past = accounts
            .new_token("mgr", None, Some(now), now)
            .unwrap_err()
            .to_string();
        assert!(past.contains("already past"), "{past}");
    }

    #[test]
    fn labels_default_to_a_number_and_are_unique_per_user() {
        let mut accounts = accounts();
        let now = Utc::now();
        let label = |accounts: &mut Accounts, user: &str, label: Option<&str>| {
            accounts
                .new_token(user, label, None, now)
                .map(|(_, t)| t.label)
        };
        assert_eq!(label(&mut accounts, "mgr", None).unwrap(), "token 1");
        assert_eq!(label(&mut accounts, "mgr", Some(" ci ")).unwrap(), "ci");
        assert_eq!(label(&mut accounts, "mgr", None).unwrap(), "token 3");
        assert_eq!(label(&mut accounts, "aud", Some("CI")).unwrap(), "CI");
        let taken = label(&mut accounts, "MGR", Some("CI"))
            .unwrap_err()
            .to_string();
        assert!(taken.contains("already has a token labelled"), "{taken}");
        // The next number after the user's tokens, so a label just revoked is not
        // handed out again at once.
        accounts.revoke_token("mgr", "token 1").unwrap();
        assert_eq!(label(&mut accounts, "mgr", None).unwrap(), "token 4");
        for bad in ["", "   ", "two\nlines", &"x".repeat(65)] {
            assert!(label(&mut accounts, "mgr", Some(bad)).is_err(), "{bad:?}");
        }
        assert!(label(&mut accounts, "nobody", None).is_err());
    }

    #[test]
    fn a_token_is_revoked_by_label_or_short_id_and_a_miss_lists_the_tokens() {
        let mut accounts = accounts();
        let now = Utc::now();
        let (first, one) = accounts.new_token("mgr", Some("ci"), None, now).unwrap();
        let (second, two) = accounts.new_token("mgr", None, None, now).unwrap();
        let (theirs, _) = accounts
            .new_token("aud", Some("nightly"), None, now)
            .unwrap();
        let missed = accounts
            .revoke_token("mgr", "nightly")
            .unwrap_err()
            .to_string();
        assert!(
            missed.contains("no token labelled \"nightly\"")
                && missed.contains(&format!("\"ci\" (id {})", one.id()))
                && missed.contains(&format!("\"token 2\" (id {})", two.id())),
            "{missed}"
        );
        assert!(
            accounts.revoke_token("mgr", &one.id()[..6]).is_err(),
            "a short id is 8 hex digits"
        );
        let revoked = accounts
            .revoke_token("Mgr", &one.id().to_uppercase())
            .unwrap();
        assert_eq!(revoked.label, "ci");
        assert_eq!(accounts.by_token(&first, now), Err(TokenRefused::Unknown));
        assert!(accounts.by_token(&second, now).is_ok());
        assert_eq!(
            accounts.revoke_token("mgr", "TOKEN 2").unwrap().sha256,
            two.sha256
        );
        let none = accounts.revoke_token("mgr", "ci").unwrap_err().to_string();
        assert!(none.contains("mgr has no tokens"), "{none}");
        assert!(accounts.by_token(&theirs, now).is_ok());
    }
}
