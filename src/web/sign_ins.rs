//! The last successful sign-in of each user, in `DATA/sign-ins.json`, for
//! `assure user list`.
//!
//! The running service writes this file and nothing else of the accounts': the
//! accounts file stays the command line's alone, so a sign-in can never undo an edit
//! made at the same moment. Each sign-in replaces the file atomically (owner-only,
//! fsynced, renamed over); a damaged or missing file only means "never" is shown.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use chrono::{DateTime, SecondsFormat, Utc};

use super::accounts::replace_file;

pub const FILE: &str = "sign-ins.json";

/// Sign-ins answered at once write one after the other.
static WRITING: Mutex<()> = Mutex::new(());

/// Each user's last sign-in (by the account's name, lower case). Missing or
/// unreadable: none.
pub fn load(data: &Path) -> BTreeMap<String, DateTime<Utc>> {
    let Ok(bytes) = std::fs::read(data.join(FILE)) else {
        return BTreeMap::new();
    };
    let stored: BTreeMap<String, String> = serde_json::from_slice(&bytes).unwrap_or_default();
    stored
        .into_iter()
        .filter_map(|(name, at)| {
            let at = DateTime::parse_from_rfc3339(&at).ok()?;
            Some((name.to_ascii_lowercase(), at.with_timezone(&Utc)))
        })
        .collect()
}

/// Records that `name` signed in at `at`. Blocking (it fsyncs): call it off the
/// async threads.
pub fn record(data: &Path, name: &str, at: DateTime<Utc>) -> Result<()> {
    let _writing = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let mut last: BTreeMap<String, String> = load(data)
        .into_iter()
        .map(|(name, at)| (name, at.to_rfc3339_opts(SecondsFormat::Secs, true)))
        .collect();
    last.insert(
        name.to_ascii_lowercase(),
        at.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    let bytes = serde_json::to_vec_pretty(&last).context("encoding the sign-ins")?;
    replace_file(data, FILE, &bytes)
        .with_context(|| format!("writing {}", data.join(FILE).display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_last_sign_in_is_kept_and_a_damaged_file_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_empty());
        let first = DateTime::parse_from_rfc3339("2025-03-03T14:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = first + chrono::Duration::hours(2);
        record(dir.path(), "Chair", first).unwrap();
        record(dir.path(), "manager", first).unwrap();
        record(dir.path(), "chair", later).unwrap();
        let last = load(dir.path());
        assert_eq!(last.get("chair"), Some(&later));
        assert_eq!(last.get("manager"), Some(&first));
        std::fs::write(dir.path().join(FILE), b"{ not json").unwrap();
        assert!(load(dir.path()).is_empty());
    }
}
