//! What the ledger can show about itself, in words a board member reads: the latest
//! checkpoint someone outside the service co-signed (the chair, with the verifier
//! key registered for them) kept apart from the ledger-only ones the service signs
//! itself, and a plain statement of what the last verification checked. The
//! verification page, the dashboard and the printed report all say it this way.

use ledger::note::VerifierKey;
use ledger::Ledger;

use super::accounts::Accounts;
use super::html;

/// A checkpoint as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// How many changes it covers.
    pub size: u64,
    /// When the last of them was recorded (micros), so "the record as it stood on".
    pub as_it_stood: Option<i64>,
    /// Who signed it besides the ledger: "Independent chair jane.doe".
    pub cosigners: Vec<String>,
    /// When the latest co-signature says it was made (POSIX seconds): a C2SP
    /// cosignature/v1 carries its time; a plain signed-note signature does not.
    pub cosigned_at: Option<i64>,
    /// The signed note itself.
    pub note: String,
}

/// The latest checkpoint, and the latest one co-signed, which may be older.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoints {
    pub latest: Option<Attested>,
    pub cosigned: Option<Attested>,
}

/// Reads the ledger's checkpoints. A co-signature counts only when it verifies with
/// the verifier key registered for an account or kept for a witness; those it
/// verified for are the co-signers named.
pub fn checkpoints(ledger: &Ledger, accounts: &Accounts) -> Checkpoints {
    let Ok(held) = ledger.checkpoints() else {
        return Checkpoints::default();
    };
    // The co-signers counted: accounts with a registered key (the chair), and the
    // witnesses whose cosignatures the ledger keeps (`witness attach`).
    let mut registered: Vec<(String, VerifierKey)> = accounts
        .users
        .iter()
        .filter_map(|a| {
            let vkey = VerifierKey::parse(a.vkey.as_deref()?).ok()?;
            Some((format!("{} {}", a.role.label(), a.name), vkey))
        })
        .collect();
    registered.extend(
        crate::app::keys::cosigner_vkeys(ledger.dir())
            .into_iter()
            .map(|k| (format!("Witness {}", k.name), k)),
    );
    let attested = |signed: &ledger::checkpoint::SignedCheckpoint,
                    (cosigners, cosigned_at): (Vec<String>, Option<i64>)| {
        let size = signed.unverified_checkpoint().size;
        Attested {
            size,
            as_it_stood: size
                .checked_sub(1)
                .and_then(|last| ledger.event(last).ok())
                .map(|e| e.header.recorded_at),
            cosigners,
            cosigned_at,
            note: signed.to_string(),
        }
    };
    // Who co-signed it, and the latest time a co-signature gives.
    let cosigners_of = |signed: &ledger::checkpoint::SignedCheckpoint| {
        let mut at: Option<i64> = None;
        let who: Vec<String> = registered
            .iter()
            .filter(|(_, key)| {
                let Ok(verified) = signed.note().verify(std::slice::from_ref(key)) else {
                    return false;
                };
                let time = verified
                    .iter()
                    .filter_map(|v| v.timestamp)
                    .filter_map(|t| i64::try_from(t).ok())
                    .max();
                at = at.max(time);
                true
            })
            .map(|(who, _)| who.clone())
            .collect();
        (who, at)
    };
    let latest = held.last().map(|c| attested(c, cosigners_of(c)));
    let cosigned = held.iter().rev().find_map(|c| {
        let who = cosigners_of(c);
        (!who.0.is_empty()).then(|| attested(c, who))
    });
    Checkpoints { latest, cosigned }
}

/// What a verification found, as the statement needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    pub size: u64,
    pub first_bad_seq: Option<u64>,
    pub problem: Option<String>,
}

impl From<&ledger::VerifyReport> for Checked {
    fn from(report: &ledger::VerifyReport) -> Checked {
        Checked {
            ok: report.ok,
            size: report.size,
            first_bad_seq: report.first_bad_seq,
            problem: report.problem.clone(),
        }
    }
}

/// The statement in plain words: what was checked, who co-signed the record as it
/// stood when, and what that means; `None` for `checked` when no verification has run.
pub fn in_words(checked: Option<&Checked>, size: u64, points: &Checkpoints) -> Vec<String> {
    let mut words = Vec::new();
    match checked {
        None => words.push(format!(
            "The ledger holds {}. It has not been checked since the service started: run the check to confirm that none of them has been altered, removed or put out of order.",
            changes(size)
        )),
        Some(c) if c.ok => words.push(format!(
            "All {} recorded since the ledger began are intact and in order: each was checked against the one before it, and none has been altered, removed or inserted.",
            changes(c.size)
        )),
        Some(c) => {
            let at = c
                .first_bad_seq
                .map(|s| format!(" at change {}", html::number(s)))
                .unwrap_or_default();
            words.push(format!(
                "The check FAILED{at}: {}. What the ledger shows from there on cannot be relied on: tell the administrator, and compare with an export or a checkpoint kept outside this service.",
                c.problem.as_deref().unwrap_or("the ledger does not match its own hashes")
            ));
        }
    }
    match &points.cosigned {
        Some(cosigned) => {
            let who = cosigned.cosigners.join(" and ");
            let when = cosigned
                .as_it_stood
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| format!(" as it stood on {}", t.format("%-d %B %Y at %H:%M UTC")))
                .unwrap_or_default();
            let signed_on = cosigned
                .cosigned_at
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| format!(" (signed {})", t.format("%-d %B %Y at %H:%M UTC")))
                .unwrap_or_default();
            let mut sentence = format!(
                "{who} co-signed the record{when}, its first {}{signed_on}",
                changes(cosigned.size)
            );
            if checked.is_some_and(|c| c.ok && c.size >= cosigned.size) {
                sentence.push_str("; nothing recorded before then has been altered or removed since");
            }
            sentence.push('.');
            let after = size.saturating_sub(cosigned.size);
            if after > 0 {
                sentence.push_str(&format!(
                    " The {} recorded after that {} not yet co-signed.",
                    changes(after),
                    if after == 1 { "is" } else { "are" }
                ));
            }
            words.push(sentence);
        }
        None => words.push(
            "No one outside the service has co-signed the record yet. Until the chair co-signs a checkpoint, whoever runs the server could rewrite the history without it showing here."
                .to_owned(),
        ),
    }
    words
}

fn changes(n: u64) -> String {
    format!(
        "{} {}",
        html::number(n),
        if n == 1 { "change" } else { "changes" }
    )
}

/// The latest checkpoint's tree size and number of signatures.
pub fn checkpoint_summary(ledger: &ledger::Ledger) -> Option<(u64, usize)> {
    let latest = ledger.latest_checkpoint().ok().flatten()?;
    Some((
        latest.unverified_checkpoint().size,
        latest.note().signatures().len(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn attested(size: u64) -> Attested {
        Attested {
            size,
            as_it_stood: Some(1_709_424_000_000_000), // 3 March 2024, 00:00 UTC
            cosigners: vec!["Independent chair jane".into()],
            cosigned_at: Some(1_709_467_200), // 3 March 2024, 12:00 UTC
            note: String::new(),
        }
    }

    #[test]
    fn the_statement_says_what_was_checked_and_who_cosigned_when() {
        let ok = Checked {
            ok: true,
            size: 1254,
            first_bad_seq: None,
            problem: None,
        };
        let points = Checkpoints {
            latest: Some(attested(1254)),
            cosigned: Some(attested(1200)),
        };
        let words = in_words(Some(&ok), 1254, &points).join(" ");
        assert!(
            words.contains(
                "All 1,254 changes recorded since the ledger began are intact and in order"
            ),
            "{words}"
        );
        assert!(
            words.contains(
                "Independent chair jane co-signed the record as it stood on 3 March 2024"
            ),
            "{words}"
        );
        assert!(
            words.contains("nothing recorded before then has been altered or removed since"),
            "{words}"
        );
        assert!(
            words.contains("The 54 changes recorded after that are not yet co-signed."),
            "{words}"
        );

        // A failed check never claims that nothing was altered.
        let failed = Checked {
            ok: false,
            size: 700,
            first_bad_seq: Some(700),
            problem: Some("event 700's hash does not match".into()),
        };
        let words = in_words(Some(&failed), 1254, &points).join(" ");
        assert!(words.contains("The check FAILED at change 700"), "{words}");
        assert!(
            !words.contains("intact") && !words.contains("nothing recorded before then"),
            "{words}"
        );

        // Unchecked and never co-signed: both said.
        let words = in_words(None, 1, &Checkpoints::default()).join(" ");
        assert!(
            words.contains("holds 1 change.")
                && words.contains("No one outside the service has co-signed"),
            "{words}"
        );
    }
}
