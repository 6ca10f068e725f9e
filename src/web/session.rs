//! Sign-in sessions, their CSRF tokens, and login throttling. In memory: a restart
//! signs everyone out, which is the safe direction.
//!
//! Throttling slows a *client guessing one user name* down, and never locks the
//! account: the chair signing in from elsewhere is not held up by someone else's
//! failures. After `FREE_FAILURES` failures the next try from that client for that
//! name waits 1 s, then 2 s, 4 s … up to `MAX_DELAY`; a success clears it, and it is
//! forgotten `FORGET_AFTER` after the last failure. At most `MAX_TRACKED` records are
//! kept, so guessing many names cannot grow the memory without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::accounts::{random_id, Principal};

pub const COOKIE: &str = "assure_session";
/// The cookie's name under `--tls`: the `__Host-` prefix makes browsers refuse it
/// unless it is Secure, for this host only, on every path.
const HOST_COOKIE: &str = "__Host-assure_session";

/// The session cookie's name.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_COOKIE
    } else {
        COOKIE
    }
}

/// The `Set-Cookie` value for a session id (`None`: clear it). Re-sent on activity,
/// so the browser's idle limit is the service's (`IDLE` since the last request).
pub fn set_cookie(id: Option<&str>, secure: bool) -> String {
    format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        cookie_name(secure),
        id.unwrap_or(""),
        if id.is_some() { IDLE.as_secs() } else { 0 },
        if secure { "; Secure" } else { "" }
    )
}
/// A session unused for this long is gone.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// Failures (typos) before the next try must wait.
const FREE_FAILURES: u32 = 2;
/// The longest wait between tries.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A record of failures is forgotten this long after the last one.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The most (client, user name) records kept.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    last_seen: Instant,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    last: Instant,
    /// No try before this moment.
    next_try: Instant,
}

/// Whose failures: the client's address and the user name (lower case).
type Guesser = (IpAddr, String);

#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<Guesser, Failures>>,
}

impl Sessions {
    /// A new session (a new id: sign-in always rotates it); returns (id, csrf).
    pub fn create(&self, principal: Principal, replacing: Option<&str>) -> anyhow::Result<String> {
        let id = random_id()?;
        let session = Session {
            principal,
            csrf: random_id()?,
            last_seen: Instant::now(),
        };
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = replacing {
            live.remove(old);
        }
        let now = Instant::now();
        live.retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        live.insert(id.clone(), session);
        Ok(id)
    }

    /// The session for a cookie value, touched; `None` when unknown or idle too long.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let session = live.get_mut(id)?;
        if now.duration_since(session.last_seen) >= IDLE {
            live.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    pub fn remove(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// `Some(wait)` when this client must wait before trying this user name again.
    pub fn wait(&self, client: IpAddr, name: &str) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.get(&(client, name.to_ascii_lowercase()))?;
        entry
            .next_try
            .checked_duration_since(Instant::now())
            .filter(|wait| !wait.is_zero())
    }

    /// Records a failed try; returns how long the next one must wait.
    pub fn failed(&self, client: IpAddr, name: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let key = (client, name.to_ascii_lowercase());
        if !failures.contains_key(&key) && failures.len() >= MAX_TRACKED {
            failures.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if failures.len() >= MAX_TRACKED {
                let oldest = failures
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    failures.remove(&oldest);
                }
            }
        }
        let entry = failures.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            next_try: now,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        let delay = delay_after(entry.count);
        entry.next_try = now + delay;
        delay
    }

    pub fn succeeded(&self, client: IpAddr, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(client, name.to_ascii_lowercase()));
    }

    /// How many failure records are kept (for tests of the bound).
    pub fn tracked(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

/// The wait before the next try after `count` failures: none for the first
/// `FREE_FAILURES`, then 1 s doubling to `MAX_DELAY`.
pub fn delay_after(count: u32) -> Duration {
    match count.checked_sub(FREE_FAILURES) {
        None | Some(0) => Duration::ZERO,
        Some(over) => Duration::from_secs(1u64 << (over - 1).min(6)).min(MAX_DELAY),
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A constant-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_one_second_and_stop_at_a_minute() {
        let waits: Vec<u64> = (1..=10).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(waits, [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn one_clients_guesses_never_hold_up_another_and_success_clears_them() {
        let sessions = Sessions::default();
        let (guesser, chair) = (IpAddr::from([10, 0, 0, 9]), IpAddr::from([10, 0, 0, 1]));
        for _ in 0..8 {
            sessions.failed(guesser, "Chair");
        }
        assert!(sessions
            .wait(guesser, "chair")
            .is_some_and(|w| w > Duration::from_secs(30)));
        assert_eq!(
            sessions.wait(chair, "chair"),
            None,
            "the account is not locked"
        );
        assert_eq!(sessions.wait(guesser, "manager"), None, "only that name");
        sessions.succeeded(guesser, "chair");
        assert_eq!(sessions.wait(guesser, "chair"), None);
    }

    #[test]
    fn guessing_many_names_keeps_a_bounded_record() {
        let sessions = Sessions::default();
        let client = IpAddr::from([10, 0, 0, 9]);
        for n in 0..MAX_TRACKED + 500 {
            sessions.failed(client, &format!("name{n}"));
        }
        assert_eq!(sessions.tracked(), MAX_TRACKED);
        // The newest are kept.
        sessions.failed(client, &format!("name{}", MAX_TRACKED + 499));
        sessions.failed(client, &format!("name{}", MAX_TRACKED + 499));
        assert!(sessions
            .wait(client, &format!("name{}", MAX_TRACKED + 499))
            .is_some());
    }
}
