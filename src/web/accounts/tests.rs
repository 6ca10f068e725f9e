//! The accounts' tests: the file's round trip and old layout, and each step of an
//! account's life as the service sees it (sign-in, sessions, tokens).

#![allow(clippy::unwrap_used)]

use super::*;

const PASSWORD: &str = "correct horse battery";

fn with(users: &[(&str, Role)]) -> Accounts {
    let mut accounts = Accounts::default();
    for (name, role) in users {
        let agency = (*role == Role::Partner).then(|| "GMP".to_owned());
        accounts.add_user(name, *role, agency, PASSWORD).unwrap();
    }
    accounts
}

#[test]
fn passwords_and_tokens_round_trip_and_the_file_holds_neither() {
    let dir = tempfile::tempdir().unwrap();
    let mut accounts = with(&[("chair", Role::Chair)]);
    let (token, _) = accounts.new_token("chair", None, None, Utc::now()).unwrap();
    accounts.save(dir.path()).unwrap();
    let text = fs::read_to_string(dir.path().join(FILE)).unwrap();
    assert!(!text.contains("correct horse") && !text.contains(&token));
    assert!(text.contains("$argon2id$"));
    let loaded = Accounts::load(dir.path()).unwrap();
    assert_eq!(
        loaded.check_password("CHAIR", PASSWORD).map(|p| p.role),
        Some(Role::Chair)
    );
    assert!(loaded.check_password("chair", "wrong password!").is_none());
    assert_eq!(
        loaded.by_token(&token, Utc::now()).map(|p| p.name),
        Ok("chair".into())
    );
    assert_eq!(
        loaded.by_token("assure_guess", Utc::now()),
        Err(TokenRefused::Unknown)
    );
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
    assert!(err(accounts.add_user("M", Role::Auditor, None, "long enough pw")).contains("already"));
    assert!(err(accounts.set_password("m", "short")).contains("too short"));
    assert!(err(accounts.set_password("nobody", PASSWORD)).contains("no user nobody"));
}

#[test]
fn a_file_written_before_the_account_lifecycle_still_loads_and_works() {
    let dir = tempfile::tempdir().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let old = serde_json::json!({
        "users": [
            { "name": "mgr", "role": "manager", "password": hash },
            { "name": "pl", "role": "partner", "agency": "GMP", "password": hash }
        ],
        "tokens": [ { "user": "mgr", "sha256": token_digest("assure_old") } ]
    });
    fs::write(dir.path().join(FILE), old.to_string()).unwrap();
    let accounts = Accounts::load(dir.path()).unwrap();
    let signed_in = accounts.check_password("mgr", PASSWORD).unwrap();
    assert_eq!((signed_in.role, signed_in.stamp), (Role::Manager, 0));
    assert_eq!(accounts.still_signed_in(&signed_in), Some(signed_in));
    let by_token = accounts.by_token("assure_old", Utc::now()).unwrap();
    assert_eq!(by_token.name, "mgr");
    let old_token = &accounts.tokens[0];
    assert_eq!((old_token.label.as_str(), old_token.expires), ("", None));
    // Saved again, it is the same accounts with the new fields.
    Accounts::edit(dir.path(), |accounts| {
        accounts.new_token("mgr", None, None, Utc::now()).map(drop)
    })
    .unwrap();
    let again = Accounts::load(dir.path()).unwrap();
    assert!(again.by_token("assure_old", Utc::now()).is_ok());
    assert_eq!(again.tokens[1].label, "token 2");
    assert_eq!(
        again.principal("pl").unwrap().agency.as_deref(),
        Some("GMP")
    );
}

#[test]
fn a_disabled_account_cannot_sign_in_and_its_tokens_and_sessions_stop() {
    let mut accounts = with(&[("mgr", Role::Manager), ("chair", Role::Chair)]);
    let (token, _) = accounts.new_token("mgr", None, None, Utc::now()).unwrap();
    let session = accounts.check_password("mgr", PASSWORD).unwrap();
    assert!(accounts.set_enabled("mgr", false).unwrap());
    assert!(
        !accounts.set_enabled("MGR", false).unwrap(),
        "already disabled"
    );
    assert_eq!(accounts.check_password("mgr", PASSWORD), None);
    assert_eq!(accounts.principal("mgr"), None);
    assert_eq!(
        accounts.by_token(&token, Utc::now()),
        Err(TokenRefused::Unknown)
    );
    assert_eq!(accounts.still_signed_in(&session), None);
    let err = accounts
        .new_token("mgr", None, None, Utc::now())
        .unwrap_err()
        .to_string();
    assert!(err.contains("user enable mgr"), "{err}");
    // Enabled again: sign-in and tokens work, the old session stays ended.
    assert!(accounts.set_enabled("mgr", true).unwrap());
    assert!(accounts.check_password("mgr", PASSWORD).is_some());
    assert!(accounts.by_token(&token, Utc::now()).is_ok());
    assert_eq!(accounts.still_signed_in(&session), None);
    // Other accounts are untouched.
    let chair = accounts.principal("chair").unwrap();
    assert_eq!(accounts.still_signed_in(&chair), Some(chair));
}

#[test]
fn a_new_password_ends_the_sessions_before_it_and_keeps_the_tokens() {
    let mut accounts = with(&[("mgr", Role::Manager)]);
    let (token, _) = accounts.new_token("mgr", None, None, Utc::now()).unwrap();
    let before = accounts.check_password("mgr", PASSWORD).unwrap();
    accounts
        .set_password("Mgr", "a brand new passphrase")
        .unwrap();
    assert_eq!(accounts.check_password("mgr", PASSWORD), None);
    let after = accounts
        .check_password("mgr", "a brand new passphrase")
        .unwrap();
    assert_eq!(accounts.still_signed_in(&before), None);
    assert_eq!(accounts.still_signed_in(&after), Some(after));
    assert!(accounts.by_token(&token, Utc::now()).is_ok());
}

#[test]
fn a_removed_account_takes_its_tokens_and_a_new_one_of_that_name_starts_afresh() {
    let mut accounts = with(&[("mgr", Role::Manager), ("aud", Role::Auditor)]);
    let (token, _) = accounts.new_token("mgr", None, None, Utc::now()).unwrap();
    accounts.new_token("mgr", None, None, Utc::now()).unwrap();
    accounts.new_token("aud", None, None, Utc::now()).unwrap();
    let session = accounts.principal("mgr").unwrap();
    let (removed, count) = accounts.remove_user("MGR").unwrap();
    assert_eq!((removed.name.as_str(), count), ("mgr", 2));
    assert_eq!(accounts.tokens.len(), 1, "aud's token stays");
    assert_eq!(
        accounts.by_token(&token, Utc::now()),
        Err(TokenRefused::Unknown)
    );
    accounts
        .add_user("mgr", Role::Manager, None, PASSWORD)
        .unwrap();
    assert_eq!(accounts.still_signed_in(&session), None);
    assert!(accounts.remove_user("nobody").is_err());
}

#[test]
fn a_session_ends_when_its_role_or_agency_changes() {
    let mut accounts = with(&[("pl", Role::Partner)]);
    let session = accounts.principal("pl").unwrap();
    accounts.users[0].agency = Some("Probation".into());
    assert_eq!(accounts.still_signed_in(&session), None);
    accounts.users[0].agency = Some("GMP".into());
    accounts.users[0].role = Role::Manager;
    assert_eq!(accounts.still_signed_in(&session), None);
}

#[test]
fn disabling_the_last_chair_or_manager_warns_what_nobody_could_do() {
    let accounts = with(&[("chair", Role::Chair), ("aud", Role::Auditor)]);
    let warning = accounts.lockout_warning("chair").unwrap();
    assert!(
        warning.contains("last enabled chair or manager")
            && warning.contains("challenges")
            && warning.contains("import plans"),
        "{warning}"
    );
    assert_eq!(accounts.lockout_warning("aud"), None);
    let mut accounts = with(&[("chair", Role::Chair), ("mgr", Role::Manager)]);
    let warning = accounts.lockout_warning("chair").unwrap();
    assert!(
        warning.contains("last enabled chair:") && !warning.contains("import plans"),
        "{warning}"
    );
    assert_eq!(accounts.lockout_warning("mgr"), None, "the chair may too");
    accounts.set_enabled("chair", false).unwrap();
    assert!(accounts.lockout_warning("mgr").is_some());
}

#[test]
fn edits_at_the_same_time_each_start_from_the_last_one_saved() {
    let dir = tempfile::tempdir().unwrap();
    with(&[("mgr", Role::Manager)]).save(dir.path()).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    Accounts::edit(dir.path(), |accounts| {
                        accounts.new_token("mgr", None, None, Utc::now()).map(drop)
                    })
                    .unwrap();
                }
            });
        }
    });
    let accounts = Accounts::load(dir.path()).unwrap();
    assert_eq!(accounts.tokens.len(), 20, "an edit was lost");
    let refused = Accounts::edit(&dir.path().join("missing"), |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("--data"), "{refused}");
}
