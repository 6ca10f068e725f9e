//! Exit codes: 0 success, 1 verification failed or damaged ledger (or another
//! failure), 2 bad usage or rejected input. Errors carry their class as a marker
//! type in the anyhow chain.

/// Bad usage or rejected input: exit 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Verification failed (already reported on stdout): exit 1.
#[derive(Debug)]
pub struct VerificationFailed;

impl std::fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}

impl std::error::Error for VerificationFailed {}

pub fn code_for(error: &anyhow::Error) -> i32 {
    for cause in error.chain() {
        if cause.is::<Usage>() || cause.is::<projections::Rejection>() {
            return 2;
        }
        if let Some(ledger_error) = cause.downcast_ref::<ledger::Error>() {
            return match ledger_error {
                ledger::Error::Rejected(_)
                | ledger::Error::AlreadyExists { .. }
                | ledger::Error::NotALedger { .. } => 2,
                _ => 1,
            };
        }
    }
    1
}
