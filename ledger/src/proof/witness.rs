//! A C2SP tlog-witness (https://c2sp.org/tlog-witness), `add-checkpoint`: a third
//! party — the inspectorate, a partner agency, a public witness — that co-signs a
//! log's checkpoint only if it extends the last one it co-signed for that log. A
//! history that forks or rewinds is refused, so an operator cannot show one
//! history to the board and another to an inspector once both rely on a witness.
//!
//! Pure: the request body in, the response (or the refusal with its HTTP status)
//! out, and the witness's new record of each log's latest checkpoint. Keeping the
//! record durable, and the HTTP around it, is the caller's.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::checkpoint::SignedCheckpoint;
use crate::merkle::{empty_root, hash_from_slice, verify_consistency};
use crate::note::{SigningKey, VerifierKey};
use crate::Hash;

/// The most consistency proof lines a request may carry (the spec's limit).
const MAX_PROOF_LINES: usize = 63;

/// What a witness remembers of each log: the size and root of the latest
/// checkpoint it co-signed, by origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Witnessed {
    pub logs: BTreeMap<String, (u64, String)>,
}

/// A request refused: the HTTP status the spec gives and a body saying why (for
/// 409, the size the witness holds, as `text/x.tlog.size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

fn refused(status: u16, why: impl Into<String>) -> Refused {
    Refused {
        status,
        body: format!("{}\n", why.into()),
    }
}

/// Handles one `add-checkpoint` body for the logs `trusted` names (their keys; a
/// log is its keys' origin), co-signing with `key` at `now` (POSIX seconds).
/// On success `witnessed` holds the new checkpoint and the response is the
/// cosignature/v1 line.
pub fn add_checkpoint(
    witnessed: &mut Witnessed,
    trusted: &[VerifierKey],
    key: &SigningKey,
    body: &[u8],
    now: u64,
) -> Result<String, Refused> {
    let text = std::str::from_utf8(body).map_err(|_| refused(400, "the body is not UTF-8"))?;
    let (head, note) = text
        .split_once("\n\n")
        .ok_or_else(|| refused(400, "no empty line between the proof and the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| *n == "0" || (!n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| refused(400, "the first line must be `old <size>`"))?;
    let proof: Vec<Hash> = lines
        .map(|line| {
            STANDARD
                .decode(line)
                .ok()
                .and_then(|b| hash_from_slice("proof hash", &b).ok())
                .ok_or_else(|| {
                    refused(
                        400,
                        "a consistency proof line is not the base64 of 32 bytes",
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    if proof.len() > MAX_PROOF_LINES {
        return Err(refused(400, "more than 63 consistency proof lines"));
    }
    let signed = SignedCheckpoint::parse(note.as_bytes())
        .map_err(|e| refused(400, format!("not a signed checkpoint: {e}")))?;
    let checkpoint = signed.unverified_checkpoint().clone();
    let for_log: Vec<VerifierKey> = trusted
        .iter()
        .filter(|k| k.name == checkpoint.origin)
        .cloned()
        .collect();
    if for_log.is_empty() {
        return Err(refused(404, format!("unknown log {}", checkpoint.origin)));
    }
    signed
        .verify(&for_log)
        .map_err(|e| refused(403, format!("the log's signature does not verify: {e}")))?;
    if old > checkpoint.size {
        return Err(refused(400, "the old size is beyond the checkpoint's size"));
    }
    let held = witnessed.logs.get(&checkpoint.origin);
    let held_size = held.map_or(0, |(size, _)| *size);
    if old != held_size {
        return Err(Refused {
            status: 409,
            body: format!("{held_size}\n"),
        });
    }
    if checkpoint.size == 0 && checkpoint.root != empty_root() {
        return Err(refused(
            422,
            "a checkpoint of size 0 must have the empty tree's root",
        ));
    }
    match held {
        None if !proof.is_empty() => {
            return Err(refused(422, "a proof from size 0 must be empty"));
        }
        None => {}
        Some((size, root)) => {
            let root = STANDARD
                .decode(root)
                .ok()
                .and_then(|b| hash_from_slice("root", &b).ok())
                .ok_or_else(|| refused(500, "the witness's own record is damaged"))?;
            if *size == 0 {
                if !proof.is_empty() {
                    return Err(refused(422, "a proof from size 0 must be empty"));
                }
            } else if *size == checkpoint.size {
                if root != checkpoint.root || !proof.is_empty() {
                    return Err(refused(422, "same size, different root: the log forked"));
                }
            } else {
                verify_consistency(*size, checkpoint.size, &root, &checkpoint.root, &proof)
                    .map_err(|e| {
                        refused(
                            422,
                            format!("not consistent with the checkpoint co-signed before: {e}"),
                        )
                    })?;
            }
        }
    }
    let line = key
        .cosign_v1(signed.note().text(), now)
        .map_err(|e| refused(500, format!("co-signing: {e}")))?;
    witnessed.logs.insert(
        checkpoint.origin.clone(),
        (checkpoint.size, STANDARD.encode(checkpoint.root)),
    );
    Ok(line)
}

/// The `add-checkpoint` body a log sends: `old <size>`, the consistency proof from
/// that size, an empty line, the signed checkpoint.
pub fn request(old: u64, proof: &[Hash], checkpoint: &SignedCheckpoint) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&checkpoint.to_string());
    body
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::merkle::{consistency_proof, MemNodes};

    /// A log of `n` leaves, its checkpoint signed by `log`, and its tree.
    fn log(n: u8, log: &SigningKey, fork: bool) -> (SignedCheckpoint, MemNodes) {
        let mut tree = MemNodes::new();
        for i in 0..n {
            let leaf = if fork && i == 2 { 200 } else { i };
            tree.push([leaf; 32]).unwrap();
        }
        let checkpoint = Checkpoint::new(log.name(), tree.size(), tree.root());
        (SignedCheckpoint::sign(&checkpoint, &[log]).unwrap(), tree)
    }

    fn keys() -> (SigningKey, SigningKey) {
        (
            SigningKey::from_bytes("board.example/ledger", &[1; 32]).unwrap(),
            SigningKey::from_bytes("inspectorate.example/witness", &[2; 32]).unwrap(),
        )
    }

    #[test]
    fn a_witness_cosigns_a_log_that_grows_and_refuses_one_that_forks_or_rewinds() {
        let (ledger, witness) = keys();
        let trusted = [ledger.verifier()];
        let mut seen = Witnessed::default();
        let now = 1_764_000_000;

        // First sight: old 0, no proof. The answer is a cosignature/v1 by the witness.
        let (five, tree5) = log(5, &ledger, false);
        let line = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(0, &[], &five).as_bytes(),
            now,
        )
        .unwrap();
        let cosigned = SignedCheckpoint::parse(format!("{five}{line}").as_bytes()).unwrap();
        let verified = cosigned
            .verify(&[witness.verifier().as_cosigner()])
            .unwrap();
        assert_eq!(verified.signers[0].timestamp, Some(now));
        assert_eq!(seen.logs["board.example/ledger"].0, 5);

        // It grows: 5 → 9 with a proof.
        let (nine, tree9) = log(9, &ledger, false);
        let proof = consistency_proof(5, 9, &tree9).unwrap();
        add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(5, &proof, &nine).as_bytes(),
            now,
        )
        .unwrap();
        assert_eq!(seen.logs["board.example/ledger"].0, 9);

        // A stale old size: 409 with the size held.
        let stale = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(5, &proof, &nine).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!((stale.status, stale.body.as_str()), (409, "9\n"));

        // A fork: another history of 12 whose third leaf differs, with its own
        // (honest-looking) proof from 9.
        let (forked, forked_tree) = log(12, &ledger, true);
        let proof = consistency_proof(9, 12, &forked_tree).unwrap();
        let refused = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(9, &proof, &forked).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!(refused.status, 422, "{}", refused.body);
        // A rewind: the log shows 5 again.
        let rewound = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(9, &[], &five).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!(rewound.status, 400, "{}", rewound.body);
        // The same size with another root.
        let (same_size, _) = log(9, &ledger, true);
        let refused = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(9, &[], &same_size).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!(refused.status, 422);
        assert_eq!(
            seen.logs["board.example/ledger"].0, 9,
            "nothing refused is remembered"
        );

        // A log it does not know, and a checkpoint not signed by the log's key.
        let stranger = SigningKey::from_bytes("elsewhere.example/log", &[3; 32]).unwrap();
        let (theirs, _) = log(3, &stranger, false);
        let unknown = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(0, &[], &theirs).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!(unknown.status, 404);
        let impostor = SigningKey::from_bytes("board.example/ledger", &[9; 32]).unwrap();
        let (forged, _) = log(10, &impostor, false);
        let forged = add_checkpoint(
            &mut seen,
            &trusted,
            &witness,
            request(9, &[], &forged).as_bytes(),
            now,
        )
        .unwrap_err();
        assert_eq!(forged.status, 403);
        let _ = tree5;
    }
}
