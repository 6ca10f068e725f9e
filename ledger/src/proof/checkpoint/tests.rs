//! Tests of `checkpoint`.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;
use crate::merkle::tests::read_vector;
use crate::merkle::{inclusion_proof, MemNodes};

const ORIGIN: &str = "assure.example/ledger";

fn event(i: u64) -> Hash {
    Sha256::digest(i.to_be_bytes()).into()
}

fn keys() -> (SigningKey, SigningKey) {
    (
        SigningKey::from_bytes(ORIGIN, &[11; 32]).unwrap(),
        SigningKey::from_bytes("auditor.example/jo", &[12; 32]).unwrap(),
    )
}

/// A tree of `size` events and a signed checkpoint for it.
fn tree(size: u64, log: &SigningKey) -> (MemNodes, SignedCheckpoint) {
    let mut nodes = MemNodes::new();
    for i in 0..size {
        nodes.push(event(i)).unwrap();
    }
    let checkpoint = Checkpoint::new(ORIGIN, size, nodes.root());
    let signed = SignedCheckpoint::sign(&checkpoint, &[log]).unwrap();
    (nodes, signed)
}

fn proof_for(index: u64, nodes: &MemNodes, signed: &SignedCheckpoint) -> TlogProof {
    TlogProof {
        index,
        extra: None,
        proof: inclusion_proof(index, nodes.size(), nodes).unwrap(),
        checkpoint: signed.note().clone(),
    }
}

#[test]
fn behind_the_sofa_parses() {
    let bytes = read_vector("c2sp/parse-only/tlog-checkpoint-behind-the-sofa.txt");
    let signed = SignedCheckpoint::parse(&bytes).unwrap();
    let checkpoint = signed.unverified_checkpoint();
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20852163);
    assert_eq!(
        STANDARD.encode(checkpoint.root),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(checkpoint.extensions.is_empty());
    let signatures = signed.note().signatures();
    assert_eq!(signatures.len(), 1);
    assert_eq!(signatures[0].name, checkpoint.origin);
    assert_eq!(signatures[0].key_id, [0x03, 0x3d, 0xe0, 0xae]);
    assert_eq!(signed.to_string().as_bytes(), &bytes[..]);
    assert_eq!(checkpoint.to_body(), signed.note().text());
    // No published key: it must not verify against an unrelated one.
    let (log, _) = keys();
    assert!(signed.verify(&[log.verifier()]).is_err());
}

#[test]
fn bodies_round_trip() {
    let mut checkpoint = Checkpoint::new("o", 0, [0; 32]);
    assert_eq!(
        checkpoint.to_body(),
        "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    );
    for size in [0, 1, 9, 10, 20852163, u64::MAX] {
        checkpoint.size = size;
        checkpoint.root = event(size);
        assert_eq!(
            Checkpoint::parse_body(&checkpoint.to_body()).unwrap(),
            checkpoint
        );
    }
    checkpoint.extensions = vec!["ext one".into(), "— two ☃".into()];
    assert_eq!(
        Checkpoint::parse_body(&checkpoint.to_body()).unwrap(),
        checkpoint
    );
    checkpoint.validate().unwrap();
    for bad in [
        Checkpoint::new("", 1, [0; 32]),
        Checkpoint::new("a\nb", 1, [0; 32]),
        Checkpoint {
            extensions: vec![String::new()],
            ..Checkpoint::new("o", 1, [0; 32])
        },
    ] {
        assert!(bad.validate().is_err());
        let (log, _) = keys();
        assert!(SignedCheckpoint::sign(&bad, &[&log]).is_err());
    }
}

#[test]
fn bad_bodies_are_refused() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let body = |origin: &str, size: &str, root: &str| format!("{origin}\n{size}\n{root}\n");
    let cases = [
        (body("o", "020852163", root), "leading zero"),
        (body("o", "00", root), "double zero"),
        (body("o", "+5", root), "sign"),
        (body("o", "-1", root), "negative"),
        (body("o", " 5", root), "space"),
        (body("o", "18446744073709551616", root), "overflow"),
        (body("o", "", root), "empty size"),
        (body("o", "5", &root[..40]), "short root"),
        (
            body("o", "5", "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I"),
            "no padding",
        ),
        (
            body("o", "5", "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J="),
            "trailing bits",
        ),
        (
            body("o", "5", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
            "33 bytes",
        ),
        (body("", "5", root), "empty origin"),
        (body("o\r", "5", root), "CR"),
        (format!("o\n5\n{root}"), "no final newline"),
        (format!("o\n5\n{root}\n\n"), "empty extension"),
        ("o\n5\n".to_owned(), "two lines"),
        (String::new(), "empty"),
    ];
    for (text, what) in cases {
        assert!(Checkpoint::parse_body(&text).is_err(), "{what}: {text:?}");
    }
    let ok = Checkpoint::parse_body(&body("o", "0", root)).unwrap();
    assert_eq!(ok.size, 0);
}

#[test]
fn signed_checkpoints_verify_and_tampering_fails() {
    let (log, auditor) = keys();
    let (_, mut signed) = tree(10, &log);
    let verified = signed.verify(&[log.verifier()]).unwrap();
    assert_eq!(verified.checkpoint, *signed.unverified_checkpoint());
    assert_eq!(verified.signers[0].name, ORIGIN);

    signed.add_signature(&auditor).unwrap();
    let reread = SignedCheckpoint::parse(signed.to_string().as_bytes()).unwrap();
    assert_eq!(reread, signed);
    let both = reread
        .verify(&[auditor.verifier(), log.verifier()])
        .unwrap();
    assert_eq!(both.signers.len(), 2);
    assert_eq!(
        reread.verify(&[auditor.verifier()]).unwrap().signers.len(),
        1
    );

    let text = signed.to_string();
    let root = STANDARD.encode(signed.unverified_checkpoint().root);
    let other_root = STANDARD.encode(event(99));
    let tampered = [
        text.replacen("\n10\n", "\n11\n", 1),
        text.replacen(&root, &other_root, 1),
        text.replacen(ORIGIN, "assure.example/ledgex", 1),
    ];
    for bad in tampered {
        let parsed = SignedCheckpoint::parse(bad.as_bytes()).unwrap();
        let err = parsed
            .verify(&[log.verifier(), auditor.verifier()])
            .unwrap_err();
        assert!(
            matches!(err, CheckpointError::Note(NoteError::BadSignature { .. })),
            "{err}"
        );
    }
    // A note that is not a checkpoint is refused even when well signed.
    let note = Note::sign("just text\n", &[&log]).unwrap();
    assert!(SignedCheckpoint::from_note(note).is_err());
}

#[test]
fn tlog_proofs_round_trip_and_verify() {
    let (log, auditor) = keys();
    for size in [1u64, 2, 3, 7, 8, 13] {
        let (nodes, mut signed) = tree(size, &log);
        signed.add_signature(&auditor).unwrap();
        for index in 0..size {
            let mut proof = proof_for(index, &nodes, &signed);
            if index % 2 == 1 {
                proof.extra = Some(vec![index as u8; index as usize]);
            }
            let text = proof.to_string();
            assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"));
            let reread = TlogProof::parse(text.as_bytes()).unwrap();
            assert_eq!(reread, proof);
            let verified = reread.verify(&event(index), &[log.verifier()]).unwrap();
            assert_eq!(verified.checkpoint.size, size);
            // The wrong event, the wrong index or an untrusted signer all fail.
            assert!(reread.verify(&event(index + 1), &[log.verifier()]).is_err());
            let mut moved = reread.clone();
            moved.index = (index + 1) % size;
            if size > 1 {
                assert!(moved.verify(&event(index), &[log.verifier()]).is_err());
                assert!(moved
                    .verify(&event(moved.index), &[log.verifier()])
                    .is_err());
            }
            let stranger = SigningKey::from_bytes(ORIGIN, &[13; 32]).unwrap();
            assert!(reread
                .verify(&event(index), &[stranger.verifier()])
                .is_err());
        }
    }
}

#[test]
fn a_proof_against_a_tampered_checkpoint_fails() {
    let (log, _) = keys();
    let (nodes, signed) = tree(6, &log);
    let proof = proof_for(4, &nodes, &signed);
    let text = proof.to_string();
    let size_changed = text.replacen(&format!("{ORIGIN}\n6\n"), &format!("{ORIGIN}\n7\n"), 1);
    let parsed = TlogProof::parse(size_changed.as_bytes()).unwrap();
    assert!(matches!(
        parsed.verify(&event(4), &[log.verifier()]),
        Err(TlogProofError::Checkpoint(CheckpointError::Note(
            NoteError::BadSignature { .. }
        )))
    ));
    // A correctly signed checkpoint for another size does not match the proof.
    let (_, bigger) = tree(7, &log);
    let mut mismatched = proof.clone();
    mismatched.checkpoint = bigger.note().clone();
    assert!(matches!(
        mismatched.verify(&event(4), &[log.verifier()]),
        Err(TlogProofError::Inclusion(_))
    ));
}

#[test]
fn malformed_tlog_proofs_are_refused() {
    let (log, _) = keys();
    let (nodes, signed) = tree(5, &log);
    let text = proof_for(2, &nodes, &signed).to_string();
    let hash = STANDARD.encode(event(1));
    let cases = [
        (
            text.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
            "header",
        ),
        (text.replacen("index 2", "index 02", 1), "leading zero"),
        (text.replacen("index 2", "index", 1), "no index"),
        (text.replacen("index 2", "index -2", 1), "negative index"),
        (
            text.replacen("index 2\n", "extra !!\nindex 2\n", 1),
            "bad extra",
        ),
        (
            text.replacen("index 2\n", &format!("index 2\n{}\n", &hash[..43]), 1),
            "short hash",
        ),
        (text.replacen("index 2\n", "index 2\r\n", 1), "CR"),
        (
            text[..text.find("\n\n").unwrap()].to_owned(),
            "no checkpoint",
        ),
        (
            text.replacen(&format!("\n{ORIGIN}\n5\n"), "\nnot a checkpoint\n", 1),
            "body",
        ),
        (
            text.replacen(
                "index 2\n",
                &format!("index 2\n{}", format!("{hash}\n").repeat(65)),
                1,
            ),
            "65",
        ),
        ("c2sp.org/tlog-proof@v1".to_owned(), "one line"),
        (String::new(), "empty"),
    ];
    for (bad, what) in cases {
        assert!(TlogProof::parse(bad.as_bytes()).is_err(), "{what}");
    }
    let with_empty_extra = text.replacen("index 2\n", "extra \nindex 2\n", 1);
    let parsed = TlogProof::parse(with_empty_extra.as_bytes()).unwrap();
    assert_eq!(parsed.extra, Some(Vec::new()));
    assert_eq!(parsed.to_string(), with_empty_extra);
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = TlogProof::parse(&bytes);
        let _ = SignedCheckpoint::parse(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Ok(checkpoint) = Checkpoint::parse_body(text) {
                prop_assert_eq!(checkpoint.to_body(), text);
            }
        }
    }

    #[test]
    fn checkpoints_round_trip(
        origin in "[^\\x00-\\x1f]{1,40}",
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in proptest::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    ) {
        let checkpoint = Checkpoint { origin, size, root, extensions };
        prop_assert!(checkpoint.validate().is_ok());
        prop_assert_eq!(Checkpoint::parse_body(&checkpoint.to_body()).unwrap(), checkpoint);
    }

    #[test]
    fn tlog_proof_with_any_extra_round_trips(
        index in 0u64..9,
        extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
    ) {
        let (log, _) = keys();
        let (nodes, signed) = tree(9, &log);
        let mut proof = proof_for(index, &nodes, &signed);
        proof.extra = extra;
        let reread = TlogProof::parse(proof.to_string().as_bytes()).unwrap();
        prop_assert!(reread.verify(&event(index), &[log.verifier()]).is_ok());
        prop_assert_eq!(reread, proof);
    }
}
