//! Reading what users type into the inputs of a change or a question — one parser
//! each, shared by the command line, the pages and the API, so a date or a time
//! query means the same wherever it is typed. Errors are `Usage` (exit 2, HTTP 400
//! or 422) and name the field as the caller calls it (a flag, a label, a JSON key).

use anyhow::Result;
use projections::events::{ActionRef, Evidence, Rag};
use projections::planned::check_id;
use projections::read::TimeQuery;

use crate::dates::{parse_date, parse_moment, today};
use crate::exit::Usage;

/// Text that is missing or only spaces counts as not given.
fn given(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// A time query from its two inputs (`names`: what the caller calls them): a date
/// the plan stood on, and a moment it was recorded by. A moment may leave out the
/// seconds, as a browser's date-time control does.
pub fn time_query(
    as_of: Option<&str>,
    known_at: Option<&str>,
    names: [&str; 2],
) -> Result<TimeQuery> {
    let as_of = given(as_of).map(|d| parse_date(names[0], d)).transpose()?;
    let known_at = given(known_at)
        .map(|t| {
            let full = if t.len() == 16 {
                format!("{t}:00")
            } else {
                t.to_owned()
            };
            parse_moment(names[1], &full)
        })
        .transpose()?;
    Ok(TimeQuery { as_of, known_at })
}

/// The day a change takes effect: the date given, or today.
pub fn effective_day(text: Option<&str>, name: &str) -> Result<i32> {
    given(text).map_or_else(|| Ok(today()), |d| parse_date(name, d))
}

/// An optional date (such as when a response is due).
pub fn optional_date(text: Option<&str>, name: &str) -> Result<Option<i32>> {
    given(text).map(|d| parse_date(name, d)).transpose()
}

/// A due date given as `--due`.
pub fn parse_due(text: &str) -> Result<i32> {
    parse_date("--due", text.trim())
}

/// A status as its word (`green`, `amber`, `red`, `complete`, `not-started`).
/// "Carried over" is not a status one sets: carrying over records it.
pub fn status(word: &str) -> Result<Rag> {
    let word = word.trim().to_lowercase();
    Rag::parse(&word)
        .filter(|r| *r != Rag::CarriedOver)
        .ok_or_else(|| {
            Usage(format!(
                "{word:?} is not a status: choose green, amber, red, complete or not-started"
            ))
            .into()
        })
}

/// Actions named as `PLAN/REF` (what a challenge is about).
pub fn action_refs<'a>(
    items: impl IntoIterator<Item = &'a str>,
    name: &str,
) -> Result<Vec<ActionRef>> {
    items
        .into_iter()
        .map(|item| {
            let at = item.split_once('/').and_then(|(plan, reference)| {
                let ok =
                    check_id("plan id", plan).is_ok() && check_id("action ref", reference).is_ok();
                ok.then(|| ActionRef {
                    plan: plan.to_owned(),
                    reference: reference.to_owned(),
                })
            });
            at.ok_or_else(|| {
                Usage(format!(
                    "{name} {item:?} should name an action as PLAN/REF, e.g. mcr-2023/1.4"
                ))
                .into()
            })
        })
        .collect()
}

/// The record of an evidence file to put in an event, from the name the user gave
/// and its bytes; refused over the size limit.
pub fn evidence(name: &str, bytes: &[u8]) -> Result<Evidence> {
    if bytes.len() as u64 > ledger::blobs::MAX_BLOB_BYTES {
        return Err(Usage(format!(
            "evidence file {name} is {} bytes, over the limit of {} MiB; split it or attach a smaller copy",
            bytes.len(),
            ledger::blobs::MAX_BLOB_BYTES / 1024 / 1024
        ))
        .into());
    }
    Ok(Evidence {
        name: display_name(name),
        blake3: ledger::blobs::blake3_of(bytes),
        bytes: bytes.len() as u64,
    })
}

/// A file name for display only: the last path part, no control characters.
pub fn display_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = projections::planned::clean_text(last)
        .chars()
        .take(200)
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "evidence".to_owned()
    } else {
        clean
    }
}
