//! `user` and `token`: the accounts that sign in to the web service, and their API
//! tokens. Each change is a load-modify-save of `DATA/accounts.json` under its lock
//! (`Accounts::edit`), so two commands at once both count; a running service sees it
//! within a couple of seconds, without a restart. Passwords are read from a prompt
//! or standard input, never the command line, and before the lock is taken.

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};
use projections::World;

use crate::app::change::{registered_agency, AGENCIES};
use crate::app::{App, Subjects};
use crate::exit::Usage;
use crate::table;
use crate::web::accounts::{read_password, Accounts, Role, Token};

/// A moment as the tables show it: `2025-03-03 14:05 UTC`.
fn when(moment: DateTime<Utc>) -> String {
    moment.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn tokens(count: usize) -> String {
    format!("{count} token{}", if count == 1 { "" } else { "s" })
}

pub fn user_add(data: &Path, name: &str, role: &str, agency: Option<String>) -> Result<()> {
    let role = Role::parse(role).ok_or_else(|| {
        Usage(format!(
            "--role {role:?} is not a role: use chair, manager, partner or auditor"
        ))
    })?;
    if !data.join("ASSURE-LEDGER").is_file() {
        return Err(Usage(format!(
            "{} holds no ledger; create one with `assure init` first",
            data.display()
        ))
        .into());
    }
    // A partner lead speaks for a registered agency, named as the ledger names it.
    let agency = match agency {
        Some(typed) if !typed.trim().is_empty() => {
            let app = App::open(data, String::new())?;
            let world = World::replay(&app.load(&[Subjects::Prefix(AGENCIES.into())])?).0;
            Some(registered_agency(&world, &typed, "--agency must name").map_err(|r| Usage(r.0))?)
        }
        other => other,
    };
    // Checked before the prompt, so nobody types a password for nothing (and again
    // under the lock, in `add_user`).
    if Accounts::load(data)?.find(name).is_some() {
        return Err(Usage(format!(
            "there is already a user {name}; choose another name"
        ))
        .into());
    }
    let password = read_password(&format!("Password for {name}: "))?;
    Accounts::edit(data, |accounts| {
        accounts.add_user(name, role, agency, &password)
    })?;
    crate::outln!("Added {name} ({}).", role.label());
    Ok(())
}

/// Each account with its role, agency, state, tokens and last sign-in (noted by the
/// running service in `sign-ins.json`).
pub fn user_list(data: &Path) -> Result<()> {
    let accounts = Accounts::load(data)?;
    if accounts.users.is_empty() {
        crate::outln!("No accounts yet; add one with `assure user add NAME --role manager`.");
        return Ok(());
    }
    let last = crate::web::sign_ins::load(data);
    let rows: Vec<Vec<String>> = accounts
        .users
        .iter()
        .map(|user| {
            // A sign-in before the account was made was an earlier account's.
            let signed_in = last
                .get(&user.name.to_ascii_lowercase())
                .filter(|at| user.created.is_none_or(|made| **at >= made));
            vec![
                user.name.clone(),
                user.role.as_str().to_owned(),
                user.agency.clone().unwrap_or_default(),
                if user.disabled { "disabled" } else { "enabled" }.to_owned(),
                accounts.tokens_of(&user.name).count().to_string(),
                signed_in.map_or("never".to_owned(), |at| when(*at)),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table::render(
            &["user", "role", "agency", "state", "tokens", "last sign-in"],
            &rows,
            50
        )
    );
    Ok(())
}

pub fn user_vkey(data: &Path, name: &str, vkey: &str) -> Result<()> {
    Accounts::edit(data, |accounts| accounts.set_vkey(name, vkey))?;
    crate::outln!(
        "{name}'s co-signatures will be checked with {}.",
        vkey.trim()
    );
    Ok(())
}

pub fn passwd(data: &Path, name: &str) -> Result<()> {
    // Checked before the prompt, so nobody types a password for nothing.
    let name = Accounts::load(data)?.get(name)?.name.clone();
    let password = read_password(&format!("New password for {name}: "))?;
    Accounts::edit(data, |accounts| accounts.set_password(&name, &password))?;
    crate::outln!(
        "Set a new password for {name}. Every session signed in before has ended (on a running service within a few seconds); their tokens still work."
    );
    Ok(())
}

pub fn set_enabled(data: &Path, name: &str, enabled: bool) -> Result<()> {
    let (account, changed, count, warning) = Accounts::edit(data, |accounts| {
        let warning = (!enabled).then(|| accounts.lockout_warning(name)).flatten();
        let changed = accounts.set_enabled(name, enabled)?;
        let account = accounts.get(name)?.clone();
        let count = accounts.tokens_of(&account.name).count();
        Ok((account, changed, count, warning))
    })?;
    let name = &account.name;
    match (enabled, changed) {
        (false, true) => {
            crate::outln!(
                "Disabled {name}: they cannot sign in, and their {} and any session stop working (on a running service within a few seconds). `assure user enable {name}` undoes it.",
                tokens(count)
            );
            if let Some(warning) = warning {
                crate::errln!("Warning: {warning}.");
            }
        }
        (true, true) => crate::outln!(
            "Enabled {name}: they can sign in again, and their {} work again.",
            tokens(count)
        ),
        (false, false) => crate::outln!("{name} is already disabled."),
        (true, false) => crate::outln!("{name} is already enabled."),
    }
    Ok(())
}

/// Says what will be deleted and what stays, and asks (unless `confirmed`).
pub fn remove(data: &Path, name: &str, confirmed: bool) -> Result<()> {
    let accounts = Accounts::load(data)?;
    let account = accounts.get(name)?;
    crate::errln!(
        "This deletes the account {} ({}) and its {}; any session of theirs ends. The ledger keeps every event they recorded, under their name.",
        account.name,
        account.role_and_agency(),
        tokens(accounts.tokens_of(&account.name).count())
    );
    if let Some(warning) = (!account.disabled)
        .then(|| accounts.lockout_warning(name))
        .flatten()
    {
        crate::errln!("Warning: {warning}.");
    }
    if !confirmed && !super::audit::ask("Type yes to remove it: ")? {
        return Err(Usage(
            "not confirmed, so nothing was removed (answer yes, or pass --yes in a script)".into(),
        )
        .into());
    }
    let (account, count) = Accounts::edit(data, |accounts| accounts.remove_user(name))?;
    crate::outln!("Removed {} and {}.", account.name, tokens(count));
    Ok(())
}

pub fn token_new(
    data: &Path,
    name: &str,
    label: Option<&str>,
    expires: Option<&str>,
    expires_in: Option<u32>,
) -> Result<()> {
    let now = Utc::now();
    let expires = match (expires, expires_in) {
        (Some(text), _) => {
            let micros = crate::dates::parse_moment("--expires", text)?;
            Some(
                DateTime::from_timestamp_micros(micros)
                    .ok_or_else(|| Usage(format!("--expires {text:?} is too far in the future")))?,
            )
        }
        (None, Some(days)) => Some(now + chrono::Duration::days(i64::from(days))),
        (None, None) => None,
    };
    let (token, record) = Accounts::edit(data, |accounts| {
        accounts.new_token(name, label, expires, now)
    })?;
    crate::errln!(
        "A bearer token for {}, {}, {}; it is shown once and stored only as a hash:",
        record.user,
        record.described(),
        record
            .expires
            .map_or("never expires".to_owned(), |end| format!(
                "valid until {}",
                when(end)
            ))
    );
    crate::outln!("{token}");
    Ok(())
}

/// Every token (or `name`'s), never the token itself: user, label, short id, when
/// made, expiry and whether it works now.
pub fn token_list(data: &Path, name: Option<&str>) -> Result<()> {
    let accounts = Accounts::load(data)?;
    let now = Utc::now();
    let listed: Vec<&Token> = match name {
        Some(name) => accounts.tokens_of(&accounts.get(name)?.name).collect(),
        None => accounts.tokens.iter().collect(),
    };
    if listed.is_empty() {
        crate::outln!("No tokens; make one with `assure token new NAME`.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = listed
        .into_iter()
        .map(|token| {
            let state = match accounts.find(&token.user) {
                _ if token.expired(now) => "expired",
                Some(user) if user.disabled => "user disabled",
                Some(_) => "active",
                None => "no such user",
            };
            vec![
                token.user.clone(),
                token.label.clone(),
                token.id().to_owned(),
                token.created.map_or("unknown".to_owned(), when),
                token.expires.map_or("never".to_owned(), when),
                state.to_owned(),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table::render(
            &["user", "label", "id", "made", "expires", "state"],
            &rows,
            40
        )
    );
    Ok(())
}

pub fn token_revoke(data: &Path, name: &str, label_or_id: &str) -> Result<()> {
    let revoked = Accounts::edit(data, |accounts| accounts.revoke_token(name, label_or_id))?;
    crate::outln!(
        "Revoked {}'s token {}: it stops working (on a running service within a few seconds).",
        revoked.user,
        revoked.described()
    );
    Ok(())
}

/// The verifier keys registered for accounts (a chair's, for co-signatures) and the
/// witnesses' the ledger keeps, which an export names when their signatures stand
/// on its checkpoint.
pub fn registered_vkeys(data: &Path) -> Vec<ledger::note::VerifierKey> {
    let mut keys = Accounts::load(data)
        .map(|accounts| accounts.vkeys())
        .unwrap_or_default();
    keys.extend(crate::app::keys::cosigner_vkeys(data));
    keys
}
