//! The account lifecycle on a running service: tokens made, listed, revoked and
//! expired; users disabled, enabled, removed and given a new password by the real
//! binary while the service runs, each taking effect within seconds without a
//! restart; `user list` with each account's state and last sign-in.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assure::web::accounts::{token_digest, Accounts, Role};
use chrono::DateTime;

use crate::support::server::*;
use crate::support::Run;

/// Runs the real binary on the service's data folder, `stdin` on standard input.
fn assure(data: &Path, args: &[&str], stdin: &str) -> Run {
    crate::support::run_with_input(data, "accounts.tester", args, stdin)
}

fn data(server: &Server) -> PathBuf {
    server.state().data.clone()
}

/// Waits until `done` holds, for the few seconds a change to the accounts may take
/// to reach the running service (it looks at the file once a second); a generous
/// margin, since that time limit is the rule under test.
fn within_seconds(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "not within seconds: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Signs in through the form, as a browser does; on success the reply sets the
/// session cookie.
fn sign_in(server: &Server, name: &str, password: &str) -> Reply {
    let form = server.send("GET", "/login", &[], b"");
    let form_cookie = form
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let at = form.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let body = format!(
        "username={name}&password={}&csrf={}",
        encode(password),
        &form.body[at..at + 43]
    );
    server.send(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &form_cookie),
        ],
        body.as_bytes(),
    )
}

/// A signed-in session's cookie header.
fn session(server: &Server, name: &str, password: &str) -> String {
    let reply = sign_in(server, name, password);
    assert_eq!(
        reply.status, 303,
        "{name} could not sign in: {}",
        reply.body
    );
    reply
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn page(server: &Server, cookie: &str) -> Reply {
    server.send("GET", "/", &[("Cookie", cookie)], b"")
}

fn api(server: &Server, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    server.send("GET", "/api/v1/plans", &[("Authorization", &auth)], b"")
}

/// The 401 of a token the service does not take: JSON saying why, and how to
/// authenticate.
fn assert_refused(reply: &Reply, why: &str) {
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer realm=\"assure\", error=\"invalid_token\"")
    );
    let message = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains(why), "{message}");
}

#[test]
fn a_token_made_and_revoked_on_the_command_line_works_and_stops_on_the_running_service() {
    let server = Server::start();
    let data = data(&server);
    let made = assure(&data, &["token", "new", "manager", "--label", "ci"], "").ok();
    let token = made.stdout.trim().to_owned();
    let id = &token_digest(&token)[..8];
    assert!(
        made.stderr.contains(&format!("\"ci\" (id {id})")) && made.stderr.contains("never expires"),
        "{}",
        made.stderr
    );
    within_seconds("a new token works", || api(&server, &token).status == 200);
    let listed = assure(&data, &["token", "list", "manager"], "").ok().stdout;
    let row = listed.lines().find(|l| l.contains(" ci ")).unwrap();
    assert!(
        row.contains(id) && row.contains("never") && row.ends_with("active"),
        "{listed}"
    );
    assert!(
        !listed.contains(&token),
        "the token itself is never shown again"
    );
    assert!(
        listed.contains("token 1"),
        "the service's own token: {listed}"
    );
    // Nothing matches: refused, with the user's tokens to choose from.
    assure(&data, &["token", "revoke", "manager", "nightly"], "").fails_with(
        2,
        &[
            "no token labelled \"nightly\"",
            &format!("\"ci\" (id {id})"),
            "\"token 1\"",
        ],
    );
    let revoked = assure(&data, &["token", "revoke", "manager", "ci"], "").ok();
    assert!(revoked
        .stdout
        .contains(&format!("Revoked manager's token \"ci\" (id {id})")));
    within_seconds("a revoked token is refused", || {
        api(&server, &token).status == 401
    });
    assert_refused(&api(&server, &token), "not accepted");
    assert_eq!(
        api(&server, server.token(Role::Manager)).status,
        200,
        "the user's other token still works"
    );
    // By short id too, in any case.
    let other_id = token_digest(server.token(Role::Auditor))[..8].to_uppercase();
    assure(&data, &["token", "revoke", "auditor", &other_id], "").ok();
    within_seconds("a token revoked by id is refused", || {
        api(&server, server.token(Role::Auditor)).status == 401
    });
}

#[test]
fn an_expired_token_is_refused_with_a_json_401_and_listed_as_expired() {
    let server = Server::start();
    let data = data(&server);
    let made = assure(&data, &["token", "new", "chair", "--expires-in", "30"], "").ok();
    let token = made.stdout.trim().to_owned();
    assert!(made.stderr.contains("valid until"), "{}", made.stderr);
    within_seconds("a new token works", || api(&server, &token).status == 200);
    assure(
        &data,
        &["token", "new", "chair", "--expires", "2020-01-01"],
        "",
    )
    .fails_with(2, "already past");
    assure(
        &data,
        &["token", "new", "chair", "--expires", "next week"],
        "",
    )
    .fails_with(2, "is not a moment");
    // No command makes a token that has expired already: its end is moved back in
    // the file, as time would.
    let digest = token_digest(&token);
    let ended = chrono::Utc::now() - chrono::Duration::hours(1);
    Accounts::edit(&data, |accounts| {
        let record = accounts
            .tokens
            .iter_mut()
            .find(|t| t.sha256 == digest)
            .unwrap();
        record.expires = DateTime::from_timestamp(ended.timestamp(), 0);
        Ok(())
    })
    .unwrap();
    within_seconds("an expired token is refused", || {
        api(&server, &token).status == 401
    });
    assert_refused(&api(&server, &token), "this token expired at");
    let listed = assure(&data, &["token", "list"], "").ok().stdout;
    let row = listed.lines().find(|l| l.contains(&digest[..8])).unwrap();
    assert!(row.ends_with("expired"), "{listed}");
}

#[test]
fn disabling_a_user_ends_their_session_and_tokens_and_enabling_brings_back_the_tokens() {
    let server = Server::start();
    let data = data(&server);
    let cookie = session(&server, "manager", PASSWORD);
    assert_eq!(page(&server, &cookie).status, 200);
    let token = server.token(Role::Manager).to_owned();
    let disabled = assure(&data, &["user", "disable", "manager"], "").ok();
    assert!(
        disabled.stdout.contains("Disabled manager"),
        "{}",
        disabled.stdout
    );
    assert!(
        !disabled.stderr.contains("Warning"),
        "the chair may still do what a manager does: {}",
        disabled.stderr
    );
    within_seconds("a disabled user's session ends", || {
        page(&server, &cookie).denied()
    });
    assert_refused(&api(&server, &token), "not accepted");
    // The same answer as a wrong password: nothing tells a guesser the name exists.
    let refused = sign_in(&server, "manager", PASSWORD);
    let wrong = sign_in(&server, "chair", "not the password at all");
    assert_eq!((refused.status, wrong.status), (401, 401));
    assert!(refused
        .body
        .contains("The user name or password is not right."));
    let again = assure(&data, &["user", "disable", "manager"], "").ok();
    assert!(
        again.stdout.contains("already disabled"),
        "{}",
        again.stdout
    );
    assure(&data, &["token", "new", "manager"], "").fails_with(2, "user enable manager");
    let enabled = assure(&data, &["user", "enable", "manager"], "").ok();
    assert!(
        enabled.stdout.contains("Enabled manager") && enabled.stdout.contains("1 token work again"),
        "{}",
        enabled.stdout
    );
    within_seconds("an enabled user's token works again", || {
        api(&server, &token).status == 200
    });
    assert!(
        page(&server, &cookie).denied(),
        "an ended session stays ended"
    );
    let fresh = session(&server, "manager", PASSWORD);
    assert_eq!(page(&server, &fresh).status, 200);
    // The last chair: allowed (a leaked account must always be stoppable), with a
    // warning of what nobody can do meanwhile.
    let last = assure(&data, &["user", "disable", "chair"], "").ok();
    assert!(
        last.stderr
            .contains("Warning: chair is the last enabled chair:")
            && last.stderr.contains("close challenges"),
        "{}",
        last.stderr
    );
}

#[test]
fn a_new_password_ends_every_earlier_session_and_only_the_new_one_signs_in() {
    let server = Server::start();
    let data = data(&server);
    let (first, second) = (
        session(&server, "auditor", PASSWORD),
        session(&server, "auditor", PASSWORD),
    );
    let chair = session(&server, "chair", PASSWORD);
    assure(
        &data,
        &["user", "passwd", "nobody"],
        "a long new passphrase\n",
    )
    .fails_with(2, "no user nobody");
    assure(&data, &["user", "passwd", "auditor"], "short\n").fails_with(2, "too short");
    assert_eq!(
        page(&server, &first).status,
        200,
        "a refused change changes nothing"
    );
    // The password comes from standard input (a prompt with echo off at a terminal).
    let changed = assure(
        &data,
        &["user", "passwd", "auditor"],
        "a long new passphrase\n",
    )
    .ok();
    assert!(changed.stdout.contains("Set a new password for auditor"));
    within_seconds("the sessions before the new password end", || {
        page(&server, &first).denied() && page(&server, &second).denied()
    });
    assert_eq!(
        page(&server, &chair).status,
        200,
        "other users stay signed in"
    );
    assert_eq!(sign_in(&server, "auditor", PASSWORD).status, 401);
    let new = session(&server, "auditor", "a long new passphrase");
    assert_eq!(page(&server, &new).status, 200);
    assert_eq!(
        api(&server, server.token(Role::Auditor)).status,
        200,
        "tokens are not passwords: they keep working"
    );
}

#[test]
fn removing_a_user_says_what_goes_asks_and_yes_skips_the_question() {
    let server = Server::start();
    let data = data(&server);
    let cookie = session(&server, "partner", PASSWORD);
    let declined = assure(&data, &["user", "remove", "partner"], "no\n").fails_with(
        2,
        &[
            "deletes the account partner (partner for GMP) and its 1 token",
            "The ledger keeps every event they recorded",
            "Type yes to remove it",
            "nothing was removed",
        ],
    );
    assert!(declined.stdout.is_empty());
    assert_eq!(page(&server, &cookie).status, 200, "still there");
    let removed = assure(&data, &["user", "remove", "partner", "--yes"], "").ok();
    assert!(removed.stdout.contains("Removed partner and 1 token."));
    within_seconds("a removed user's session ends", || {
        page(&server, &cookie).denied()
    });
    assert_refused(&api(&server, server.token(Role::Partner)), "not accepted");
    let listed = assure(&data, &["user", "list"], "").ok().stdout;
    assert!(!listed.contains("partner"), "{listed}");
    // Answering yes at the prompt removes too.
    assure(&data, &["user", "remove", "auditor"], "yes\n").ok();
    assure(&data, &["user", "remove", "auditor", "--yes"], "").fails_with(2, "no user auditor");
}

#[test]
fn user_list_shows_each_accounts_state_tokens_and_last_sign_in() {
    let server = Server::start();
    let data = data(&server);
    let row = |listed: &str, name: &str| -> String {
        listed
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {listed}"))
            .to_owned()
    };
    let before = assure(&data, &["user", "list"], "").ok().stdout;
    assert!(row(&before, "manager").ends_with("never"), "{before}");
    let started = chrono::Utc::now();
    session(&server, "manager", PASSWORD);
    let ended = chrono::Utc::now();
    assure(&data, &["user", "disable", "auditor"], "").ok();
    let after = assure(&data, &["user", "list"], "").ok().stdout;
    let manager = row(&after, "manager");
    let shown = |at: DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    assert!(
        manager.ends_with(&shown(started)) || manager.ends_with(&shown(ended)),
        "{after}"
    );
    assert!(manager.contains(" enabled "), "{after}");
    let auditor = row(&after, "auditor");
    assert!(
        auditor.contains(" disabled ") && auditor.ends_with("never"),
        "{after}"
    );
    assert!(row(&after, "partner").contains("GMP"), "{after}");
    assert!(row(&after, "chair").contains(" 1 "), "one token: {after}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join(assure::web::sign_ins::FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the sign-ins are the owner's only");
    }
}

#[test]
fn an_accounts_file_from_before_the_lifecycle_still_loads_and_its_tokens_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let hash = assure::web::accounts::hash_password(PASSWORD).unwrap();
    let old = serde_json::json!({
        "users": [
            { "name": "mgr", "role": "manager", "password": hash },
            { "name": "pl", "role": "partner", "agency": "GMP", "password": hash }
        ],
        "tokens": [ { "user": "mgr", "sha256": token_digest("assure_old") } ]
    });
    std::fs::write(dir.path().join("accounts.json"), old.to_string()).unwrap();
    let listed = assure(dir.path(), &["user", "list"], "").ok().stdout;
    assert!(
        listed.contains("mgr") && listed.contains("enabled") && listed.contains("GMP"),
        "{listed}"
    );
    let tokens = assure(dir.path(), &["token", "list"], "").ok().stdout;
    let id = &token_digest("assure_old")[..8];
    assert!(
        tokens.contains(id) && tokens.contains("unknown"),
        "{tokens}"
    );
    assure(dir.path(), &["token", "revoke", "mgr", id], "").ok();
    assert!(Accounts::load(dir.path()).unwrap().tokens.is_empty());
}
