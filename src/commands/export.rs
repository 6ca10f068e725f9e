//! `export` (the bundle is written by `app::export`, shared with the service) and
//! `verify --bundle`, the same check an auditor's own tool would make (FORMAT v1 §4).

use std::path::Path;

use anyhow::Result;
use ledger::bundle::verify_bundle;
use ledger::Ledger;

use super::proofs::trusted_keys;
use super::{report_verification, Verdict};
use crate::app::export::check_bodies;

/// `assure export`: writes the bundle and says how to verify it.
pub fn export(
    ledger: &mut Ledger,
    out: &Path,
    subject: Option<&str>,
    key: Option<&Path>,
) -> Result<()> {
    let exported = crate::app::export::export(ledger, out, subject, key)?;
    crate::outln!(
        "Wrote {} {} of {} events to {} ({} evidence files), under a checkpoint of size {}.",
        if exported.excerpt {
            "an excerpt"
        } else {
            "a bundle"
        },
        exported.events,
        exported.ledger_size,
        out.display(),
        exported.evidence_files,
        exported.size
    );
    crate::outln!(
        "Verify it with: assure verify --bundle {} --trust {}",
        out.display(),
        exported.vkey
    );
    Ok(())
}

pub fn verify(dir: &Path, trust: &[String], json: bool) -> Result<()> {
    let trusted = trusted_keys(trust)?;
    let mut report = verify_bundle(dir, &trusted);
    if report.ok {
        if let Some((seq, problem)) = check_bodies(dir)? {
            report.ok = false;
            report.first_bad_seq = Some(seq);
            report.problem = Some(problem);
        }
    }
    let ok_line = format!(
        "OK: {} {} events verified against a checkpoint of size {} (root {}) signed by {}.",
        if report.excerpt {
            "excerpt:"
        } else {
            "bundle:"
        },
        report.events,
        report.size,
        report.root,
        report.signers.join(", ")
    );
    let verdict = Verdict {
        ok: report.ok,
        ok_line,
        first_bad_seq: report.first_bad_seq,
        problem: report.problem.as_deref(),
    };
    report_verification(&report, json, verdict)
}
