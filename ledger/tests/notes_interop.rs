//! The ledger's notes, keys, roots and proofs checked by code nobody here wrote:
//! Cloudflare's `signed_note` and `tlog_tiles` (ports of Go's sumdb note and tlog).
//! Where our verifier is deliberately stricter than `signed_note` (a trusted key
//! signing twice, a small-order key), both behaviours are shown.

#![allow(clippy::unwrap_used)]

use ed25519_dalek::{Signature as Ed25519Signature, VerifyingKey};
use ledger::checkpoint::SignedCheckpoint;
use ledger::header::NewEvent;
use ledger::note::{Note as OurNote, SigningKey, VerifierKey};
use ledger::Ledger;
use signed_note::{
    key_id, Note, Signature, StandardSigner, StandardVerifier, VerificationError, Verifier,
    VerifierList, Verifiers,
};
use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_index,
    stored_hashes_for_record_hash, tree_hash, Hash, HashReader,
};

fn ledger_of(n: usize) -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("data")).unwrap();
    for i in 0..n {
        ledger
            .append(vec![NewEvent {
                effective: 19_000,
                actor: "tester".into(),
                subject: "test/notes".into(),
                kind: "test.event".into(),
                payload_schema: 1,
                payload: format!("payload {i}").into_bytes(),
            }])
            .unwrap();
    }
    (dir, ledger)
}

/// The C2SP cosignature/v1 verifier, written from the spec: the key id is that of
/// `0x04 ‖ public key`; the signature is an 8-byte big-endian timestamp and an
/// Ed25519 signature over `cosignature/v1\ntime <timestamp>\n` and the note text.
struct CosignatureV1 {
    name: String,
    public: [u8; 32],
}

impl CosignatureV1 {
    fn message(text: &[u8], timestamp: u64) -> Vec<u8> {
        let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
        message.extend_from_slice(text);
        message
    }
}

impl Verifier for CosignatureV1 {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        let mut typed = vec![0x04];
        typed.extend_from_slice(&self.public);
        key_id(&self.name, &typed)
    }
    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let (Ok(timestamp), Ok(signature)) = (
            <[u8; 8]>::try_from(&sig[..8.min(sig.len())]),
            Ed25519Signature::from_slice(&sig[8.min(sig.len())..]),
        ) else {
            return false;
        };
        let message = CosignatureV1::message(text, u64::from_be_bytes(timestamp));
        VerifyingKey::from_bytes(&self.public)
            .is_ok_and(|key| key.verify_strict(&message, &signature).is_ok())
    }
}

#[test]
fn checkpoints_keys_and_signatures_read_the_same_with_signed_note() {
    let (_dir, mut ledger) = ledger_of(40);
    let key = SigningKey::generate("board.example/ledger").unwrap();
    let vkey = key.verifier().to_vkey_string();
    let signed = ledger.make_checkpoint(&key).unwrap();
    let text = signed.to_string();

    // Parsed and verified by signed_note with our verifier key.
    let note = Note::from_bytes(text.as_bytes()).unwrap();
    let theirs = StandardVerifier::new(&vkey).unwrap();
    let (verified, unverified) = note
        .verify(&VerifierList::new(vec![Box::new(theirs)]))
        .unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 0));
    assert_eq!(note.text(), signed.note().text().as_bytes());

    // Our private key file is Go's: signed_note signs with it, byte for byte as we do
    // (Ed25519 is deterministic).
    let signer = StandardSigner::new(&key.to_file_string()).unwrap();
    let mut resigned = Note::new(note.text(), &[]).unwrap();
    resigned.add_sigs(&[&signer]).unwrap();
    assert_eq!(resigned.to_bytes(), text.as_bytes());

    // And the other way: a key and a note made by signed_note, read by us.
    let (skey, their_vkey) =
        signed_note::generate_key(&mut rand_core_06::OsRng, "partner.example/audit");
    let their_key = SigningKey::from_file_string(&skey).unwrap();
    assert_eq!(their_key.verifier().to_vkey_string(), their_vkey);
    let mut theirs = Note::new(note.text(), &[]).unwrap();
    theirs
        .add_sigs(&[&StandardSigner::new(&skey).unwrap()])
        .unwrap();
    let ours = OurNote::parse(&theirs.to_bytes()).unwrap();
    ours.verify(&[VerifierKey::parse(&their_vkey).unwrap()])
        .unwrap();
}

#[test]
fn a_cosignature_v1_line_signs_the_message_the_spec_gives_byte_for_byte() {
    let (_dir, mut ledger) = ledger_of(12);
    let ledger_key = SigningKey::generate("board.example/ledger").unwrap();
    let signed = ledger.make_checkpoint(&ledger_key).unwrap();
    let witness = SigningKey::generate("inspectorate.example/witness").unwrap();
    let cosigner = witness.verifier().as_cosigner();
    let timestamp = 1_764_000_000;
    let line = witness.cosign_v1(signed.note().text(), timestamp).unwrap();
    let parsed = Signature::from_bytes(line.trim_end().as_bytes()).unwrap();
    let public = cosigner.public.to_bytes();
    let spec = CosignatureV1 {
        name: "inspectorate.example/witness".into(),
        public,
    };
    assert_eq!(parsed.name(), spec.name);
    assert_eq!(
        parsed.id(),
        Verifier::key_id(&spec),
        "the key id of 0x04 ‖ key"
    );
    assert_eq!(&parsed.signature()[..8], &timestamp.to_be_bytes());
    let message = CosignatureV1::message(signed.note().text().as_bytes(), timestamp);
    assert!(message.starts_with(b"cosignature/v1\ntime 1764000000\nboard.example/ledger\n12\n"));
    let signature = Ed25519Signature::from_slice(&parsed.signature()[8..]).unwrap();
    VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(&message, &signature)
        .unwrap();

    // The whole note with the cosignature: signed_note verifies both lines.
    let cosigned = format!("{signed}{line}");
    let note = Note::from_bytes(cosigned.as_bytes()).unwrap();
    let known = VerifierList::new(vec![
        Box::new(StandardVerifier::new(&ledger_key.verifier().to_vkey_string()).unwrap()),
        Box::new(spec),
    ]);
    assert_eq!(note.verify(&known).unwrap().0.len(), 2);
    // Our vkey for the cosigner is the spec's (type 0x04).
    let vkey = cosigner.to_vkey_string();
    // name+id+base64(type ‖ key); base64 may itself hold '+'.
    let encoded = vkey.splitn(3, '+').nth(2).unwrap();
    let typed = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap()
    };
    assert_eq!(typed[0], 0x04, "type byte 0x04 leads the key: {vkey}");
    assert_eq!(&typed[1..], &public);
    let checkpoint = SignedCheckpoint::parse(cosigned.as_bytes()).unwrap();
    let ours = checkpoint.note().verify(&[cosigner]).unwrap();
    assert_eq!(ours[0].timestamp, Some(timestamp));
}

/// The stored hashes of a tree, as Go's tlog lays them out.
struct Stored(Vec<Hash>);

impl HashReader for Stored {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

#[test]
fn roots_record_proofs_and_consistency_proofs_agree_with_tlog_tiles() {
    let (_dir, ledger) = ledger_of(300);
    let mut stored = Stored(Vec::new());
    let mut sizes = Vec::new();
    for n in 0..ledger.size() {
        let leaf = record_hash(&ledger.header(n).unwrap().event_hash());
        let hashes = stored_hashes_for_record_hash(n, leaf, &stored).unwrap();
        assert_eq!(stored.0.len() as u64, stored_hash_index(0, n));
        stored.0.extend(hashes);
        let size = n + 1;
        assert_eq!(
            tree_hash(size, &stored).unwrap().0,
            ledger.root_at(size).unwrap(),
            "root at {size}"
        );
        sizes.push(size);
    }
    let size = ledger.size();
    let root = Hash(ledger.root());
    for n in (0..size).step_by(7).chain([size - 1]) {
        let theirs = prove_record(size, n, &stored).unwrap();
        let ours = ledger.inclusion_proof(n, size).unwrap();
        assert_eq!(theirs.iter().map(|h| h.0).collect::<Vec<_>>(), ours, "{n}");
        let leaf = record_hash(&ledger.header(n).unwrap().event_hash());
        check_record(&theirs, size, root, n, leaf).unwrap();
    }
    for old in [1, 2, 3, 7, 8, 100, 255, 256, 299] {
        for new in [old, old + 1, 257, size] {
            if new < old || new > size {
                continue;
            }
            let ours = ledger.consistency_proof(old, new).unwrap();
            let theirs = prove_tree(new, old, &stored).unwrap();
            assert_eq!(
                theirs.iter().map(|h| h.0).collect::<Vec<_>>(),
                ours,
                "{old}→{new}"
            );
            let (old_root, new_root) = (ledger.root_at(old).unwrap(), ledger.root_at(new).unwrap());
            check_tree(&theirs, new, Hash(new_root), old, Hash(old_root)).unwrap();
        }
    }
}

#[test]
fn where_we_are_stricter_than_signed_note_we_stay_so() {
    let (_dir, mut ledger) = ledger_of(5);
    let key = SigningKey::generate("board.example/ledger").unwrap();
    let vkey = key.verifier().to_vkey_string();
    let signed = ledger.make_checkpoint(&key).unwrap().to_string();

    // A trusted key's signature twice: signed_note passes over the repeat; the
    // spec says to reject the note, and we do.
    let line = signed.rsplit_once("\n\n").unwrap().1.to_owned();
    let twice = format!("{signed}{line}");
    let note = Note::from_bytes(twice.as_bytes()).unwrap();
    let list = VerifierList::new(vec![Box::new(StandardVerifier::new(&vkey).unwrap())]);
    assert!(note.verify(&list).is_ok());
    let ours = OurNote::parse(twice.as_bytes()).unwrap();
    assert!(ours.verify(&[VerifierKey::parse(&vkey).unwrap()]).is_err());

    // A small-order key (the identity point) "signs" any text with R = identity,
    // s = 0. signed_note's Ed25519 check accepts it; ours refuses the key or the
    // signature.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let name = "weak.example/key";
    let mut typed = vec![0x01];
    typed.extend_from_slice(&identity);
    let weak_vkey = format!(
        "{name}+{:08x}+{}",
        key_id(name, &typed),
        base64_standard(&typed)
    );
    let text = Note::from_bytes(signed.as_bytes()).unwrap().text().to_vec();
    let mut forged_sig = identity.to_vec();
    forged_sig.extend_from_slice(&[0u8; 32]);
    let forged = Note::new(
        &text,
        &[Signature::new(name.into(), key_id(name, &typed), forged_sig).unwrap()],
    )
    .unwrap();
    let theirs = StandardVerifier::new(&weak_vkey).unwrap();
    assert!(
        forged
            .verify(&VerifierList::new(vec![Box::new(theirs)]))
            .is_ok(),
        "signed_note accepts the forgery (its Ed25519 check is not strict)"
    );
    let refused = VerifierKey::parse(&weak_vkey).map_or(true, |k| {
        OurNote::parse(&forged.to_bytes())
            .unwrap()
            .verify(&[k])
            .is_err()
    });
    assert!(refused, "we accepted a small-order key's forgery");
    // A name signed_note does not know is left unverified, not an error: the same
    // rule as ours for keys nobody trusts.
    let other = VerifierList::new(vec![]);
    assert!(matches!(
        other.verifier(name, 1),
        Err(VerificationError::UnknownKey { .. })
    ));
}

fn base64_standard(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
