//! Sign-in sessions, their CSRF tokens, and login throttling. In memory: a restart
//! signs everyone out, which is the safe direction.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::accounts::{random_id, Principal};

pub const COOKIE: &str = "assure_session";
/// A session unused for this long is gone.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// Failed sign-ins for one user name before it is locked for `LOCKOUT`.
const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    last_seen: Instant,
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
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

    /// `Some(wait)` when this user name is locked out after too many failures.
    pub fn locked(&self, name: &str) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let until = failures.get(&name.to_ascii_lowercase())?.locked_until?;
        until.checked_duration_since(Instant::now())
    }

    pub fn failed(&self, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.entry(name.to_ascii_lowercase()).or_default();
        if entry.locked_until.is_some_and(|t| t <= Instant::now()) {
            *entry = Failures::default();
        }
        entry.count += 1;
        if entry.count >= MAX_FAILURES {
            entry.locked_until = Some(Instant::now() + LOCKOUT);
        }
    }

    pub fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&name.to_ascii_lowercase());
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
