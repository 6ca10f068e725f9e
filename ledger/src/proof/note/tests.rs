//! Tests of `note`.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::merkle::tests::read_vector;

const EXAMPLE_TEXT: &str = "This is an example message.\n";

/// The published example: its verifier key and the note, byte for byte.
fn example() -> (VerifierKey, String) {
    let file = String::from_utf8(read_vector("c2sp/signed-note-example.txt")).unwrap();
    let (header, note) = file.split_once('\n').unwrap();
    let vkey = header.strip_prefix("vkey: ").unwrap();
    (VerifierKey::parse(vkey).unwrap(), note.to_owned())
}

fn rejected(note: &str, key: &VerifierKey) -> NoteError {
    match Note::parse(note.as_bytes()) {
        Err(e) => e,
        Ok(parsed) => match parsed.verify(std::slice::from_ref(key)) {
            Err(e) => e,
            Ok(_) => panic!("a damaged note was accepted: {note:?}"),
        },
    }
}

#[test]
fn the_example_note_verifies() {
    let (key, text) = example();
    assert_eq!(text.len(), 142);
    assert_eq!(key_id_hex(&key.key_id), "530d903a");
    assert_eq!(key.name, "example.com/foo");
    assert_eq!(
        key.to_vkey_string(),
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    );
    let note = Note::parse(text.as_bytes()).unwrap();
    let verified = note.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(
        verified,
        vec![VerifiedSignature {
            timestamp: None,
            name: "example.com/foo".into(),
            key_id: [0x53, 0x0d, 0x90, 0x3a]
        }]
    );
    assert_eq!(note.text(), EXAMPLE_TEXT);
    assert_eq!(note.signatures()[0].signature.len(), 64);
    assert_eq!(note.to_string(), text);
}

#[test]
fn every_damaged_copy_of_the_example_is_rejected() {
    let (key, text) = example();
    let flipped_text = text.replacen("example", "exbmple", 1);
    assert!(matches!(
        rejected(&flipped_text, &key),
        NoteError::BadSignature { line: 3, .. }
    ));

    let note = Note::parse(text.as_bytes()).unwrap();
    for bit in [0, 7, 100, 511] {
        let mut damaged = note.clone();
        damaged.signatures[0].signature[bit / 8] ^= 1 << (bit % 8);
        let err = rejected(&damaged.to_string(), &key);
        assert!(
            matches!(err, NoteError::BadSignature { .. }),
            "bit {bit}: {err}"
        );
    }

    let cases = [
        ("hyphen for em dash", text.replace('\u{2014}', "-")),
        ("no blank line", text.replacen("\n\n", "\n", 1)),
        ("CRLF", text.replace('\n', "\r\n")),
        ("no final newline", text.trim_end_matches('\n').to_owned()),
        (
            "control character",
            text.replacen("example", "exa\u{7}mple", 1),
        ),
        ("tab", text.replacen(' ', "\t", 1)),
        (
            "other name, same id",
            text.replace("— example.com/foo", "— example.com/bar"),
        ),
        ("other id, same name", text.replace("Uw2QOkn8", "Uw2ROkn8")),
        ("empty", String::new()),
        ("signatures only", text.replacen(EXAMPLE_TEXT, "", 1)),
    ];
    for (what, damaged) in cases {
        let err = rejected(&damaged, &key);
        assert!(!err.to_string().is_empty(), "{what}");
    }
    let expect = |what: &str, damaged: &str, check: fn(&NoteError) -> bool| {
        let err = rejected(damaged, &key);
        assert!(check(&err), "{what}: unexpected error {err:?}");
    };
    expect("CRLF", &text.replace('\n', "\r\n"), |e| {
        matches!(e, NoteError::CarriageReturn { line: 1 })
    });
    expect("bell", &text.replacen("example", "exa\u{7}mple", 1), |e| {
        matches!(e, NoteError::ControlCharacter { line: 1, code: 7 })
    });
    expect("no final newline", text.trim_end_matches('\n'), |e| {
        matches!(e, NoteError::MissingFinalNewline)
    });
    expect("no blank line", &text.replacen("\n\n", "\n", 1), |e| {
        matches!(e, NoteError::MissingBlankLine)
    });
    expect("hyphen", &text.replace('\u{2014}', "-"), |e| {
        matches!(e, NoteError::MalformedSignature { line: 3, .. })
    });
    expect(
        "other name",
        &text.replace("— example.com/foo", "— example.com/bar"),
        |e| matches!(e, NoteError::NoTrustedSignature { count: 1 }),
    );
    expect("other id", &text.replace("Uw2QOkn8", "Uw2ROkn8"), |e| {
        matches!(e, NoteError::NoTrustedSignature { count: 1 })
    });
}

#[test]
fn key_names_are_checked() {
    let key = SigningKey::from_bytes("ok.example/name", &[1; 32]).unwrap();
    let public = key.verifier().public;
    for bad in ["", "a b", "a\u{a0}b", "a\u{2003}b", "a+b", "a\tb"] {
        assert!(VerifierKey::new(bad, public).is_err(), "{bad:?}");
        assert!(SigningKey::from_bytes(bad, &[1; 32]).is_err(), "{bad:?}");
    }
    let vkey = key.verifier().to_vkey_string();
    assert_eq!(VerifierKey::parse(&vkey).unwrap(), key.verifier());
    let renamed = vkey.replacen("ok.example/name", "ok.example/other", 1);
    assert!(matches!(
        VerifierKey::parse(&renamed),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    for bad in [
        "",
        "name",
        "name+1234abcd",
        " name+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2kAA==",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn rfc8032_test_key_gives_its_public_key() {
    // RFC 8032 §7.1, TEST 1.
    let seed = [
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c,
        0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae,
        0x7f, 0x60,
    ];
    let key = SigningKey::from_bytes("rfc8032.example/test1", &seed).unwrap();
    let public: String = key
        .verifier()
        .public
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        public,
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
}

#[test]
fn private_key_text_round_trips() {
    let key = SigningKey::generate("assure.example/ledger").unwrap();
    let text = key.to_file_string();
    assert!(text.starts_with("PRIVATE+KEY+assure.example/ledger+"));
    let back = SigningKey::from_file_string(&format!("{text}\n")).unwrap();
    assert_eq!(back.verifier(), key.verifier());
    let wrong_id = text.replacen(&key_id_hex(&key.key_id()), "00000000", 1);
    assert!(SigningKey::from_file_string(&wrong_id).is_err());
    assert!(SigningKey::from_file_string(&text[12..]).is_err());
    assert!(SigningKey::from_file_string(&key.verifier().to_vkey_string()).is_err());
    let debug = format!("{key:?}");
    assert!(
        !debug.contains(&text[text.len() - 20..]),
        "Debug must not show the seed"
    );
    // A key of the wrong length or type is refused without echoing it.
    let short = "PRIVATE+KEY+example.com/foo+530d903a+AQ==";
    assert!(matches!(
        SigningKey::from_file_string(short),
        Err(KeyError::Malformed { .. })
    ));
    let typed = STANDARD.encode([2; 33]);
    assert!(matches!(
        SigningKey::from_file_string(&format!("PRIVATE+KEY+k+00000000+{typed}")),
        Err(KeyError::UnsupportedAlgorithm { found: 2 })
    ));
}

#[test]
fn the_parse_only_examples_parse() {
    let bytes = read_vector("c2sp/parse-only/signed-note-quasimodo.txt");
    let note = Note::parse(&bytes).unwrap();
    assert_eq!(note.text().len(), 88);
    let lines: Vec<&str> = note.text().lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2], "");
    assert!(note.text().contains('è'));
    assert_eq!(note.signatures().len(), 1);
    let sig = &note.signatures()[0];
    assert_eq!(sig.name, "quasimodo.example/salvatore");
    assert_eq!(key_id_hex(&sig.key_id), "367ba04b");
    assert_eq!(4 + sig.signature.len(), 68);
    assert_eq!(note.to_string().as_bytes(), &bytes[..]);

    let bytes = read_vector("c2sp/parse-only/tlog-checkpoint-behind-the-sofa.txt");
    let note = Note::parse(&bytes).unwrap();
    assert_eq!(note.text().lines().count(), 3);
    let sig = &note.signatures()[0];
    assert_eq!(sig.name, "example.com/behind-the-sofa");
    assert_eq!(key_id_hex(&sig.key_id), "033de0ae");
    assert_eq!(4 + sig.signature.len(), 68);
    assert_eq!(note.to_string().as_bytes(), &bytes[..]);
    // Without the key, nothing in it can be trusted.
    let (example_key, _) = example();
    assert!(note.verify(&[example_key]).is_err());
}

#[test]
fn sign_verify_and_cosign() {
    let log = SigningKey::generate("assure.example/log").unwrap();
    let chair = SigningKey::generate("assure.example/chair").unwrap();
    let text = "a text\n\nwith a blank line and ünïcode —\n";
    let mut note = Note::sign(text, &[&log]).unwrap();
    assert_eq!(note.verify(&[log.verifier()]).unwrap().len(), 1);
    assert!(note.verify(&[chair.verifier()]).is_err());

    note.add_signature(&chair).unwrap();
    assert!(matches!(
        note.add_signature(&log),
        Err(NoteError::DuplicateSignature { .. })
    ));
    let reread = Note::parse(note.to_string().as_bytes()).unwrap();
    assert_eq!(reread, note);
    assert_eq!(reread.text(), text);
    for trusted in [vec![log.verifier()], vec![chair.verifier()]] {
        assert_eq!(reread.verify(&trusted).unwrap().len(), 1);
    }
    let both = reread.verify(&[chair.verifier(), log.verifier()]).unwrap();
    let names: Vec<&str> = both.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["assure.example/log", "assure.example/chair"]);

    // The signature line from `SigningKey::sign` is the one in the note.
    assert_eq!(
        note.to_string(),
        format!(
            "{text}\n{}{}",
            log.sign(text).unwrap(),
            chair.sign(text).unwrap()
        )
    );

    // A bad signature from a trusted key rejects the note even beside a good one.
    let mut forged = reread.clone();
    forged.signatures[1].signature[0] ^= 1;
    assert!(forged.verify(&[log.verifier()]).is_ok());
    assert!(matches!(
        forged.verify(&[log.verifier(), chair.verifier()]),
        Err(NoteError::BadSignature { line: 6, .. })
    ));

    // A trusted key signing twice is refused; an unknown one twice is ignored.
    let twice = format!("{note}{}", log.sign(text).unwrap());
    let twice = Note::parse(twice.as_bytes()).unwrap();
    assert!(matches!(
        twice.verify(&[log.verifier()]),
        Err(NoteError::DuplicateSignature { .. })
    ));
    assert!(twice.verify(&[chair.verifier()]).is_ok());
}

#[test]
fn bad_texts_cannot_be_signed() {
    let key = SigningKey::from_bytes("k", &[3; 32]).unwrap();
    for bad in ["", "no newline", "cr\r\n", "nul\0\n"] {
        assert!(Note::sign(bad, &[&key]).is_err(), "{bad:?}");
        assert!(key.sign(bad).is_err(), "{bad:?}");
    }
    assert!(matches!(
        Note::sign("ok\n", &[]),
        Err(NoteError::NoSignatures)
    ));
    let huge = "x".repeat(MAX_NOTE_BYTES) + "\n";
    assert!(matches!(
        Note::sign(&huge, &[&key]),
        Err(NoteError::TooLarge { .. })
    ));
}

#[test]
fn limits_on_size_and_signature_count() {
    let key = SigningKey::from_bytes("k", &[3; 32]).unwrap();
    let line = key.sign("t\n").unwrap();
    let at_limit = format!("t\n\n{}", line.repeat(MAX_SIGNATURES));
    assert_eq!(
        Note::parse(at_limit.as_bytes()).unwrap().signatures().len(),
        100
    );
    let over = format!("t\n\n{}", line.repeat(MAX_SIGNATURES + 1));
    assert!(matches!(
        Note::parse(over.as_bytes()),
        Err(NoteError::TooManySignatures { max: 100 })
    ));
    let big = format!("{}\n\n{line}", "x".repeat(MAX_NOTE_BYTES));
    assert!(matches!(
        Note::parse(big.as_bytes()),
        Err(NoteError::TooLarge { .. })
    ));
    assert!(matches!(
        Note::parse(b"ok\n\n\xff\n"),
        Err(NoteError::NotUtf8 { line: 3 })
    ));
    assert!(matches!(
        Note::parse(b"ok\n\n"),
        Err(NoteError::NoSignatures)
    ));
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(note) = Note::parse(&bytes) {
            let written = note.to_string();
            prop_assert_eq!(written.as_bytes(), &bytes[..]);
        }
    }

    #[test]
    fn damaged_example_never_panics_and_never_verifies_changed_text(
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 1..4),
    ) {
        let (key, text) = example();
        let mut bytes = text.into_bytes();
        for (at, byte) in edits {
            let at = at % (bytes.len() + 1);
            bytes.insert(at, byte);
        }
        if let Ok(note) = Note::parse(&bytes) {
            if note.verify(std::slice::from_ref(&key)).is_ok() {
                prop_assert_eq!(note.text(), EXAMPLE_TEXT);
            }
        }
    }
}

/// The checkpoint of C2SP tlog-cosignature's example, and its witness's line.
const SOFA: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SOFA_WITNESS: &str = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

#[test]
fn the_specs_cosignature_carries_its_time_where_the_spec_says() {
    // The spec's example signs "time 1679315147": the 8 bytes after the key id.
    let line = NoteSignature::parse_line(SOFA_WITNESS.trim_end_matches('\n'), 5).unwrap();
    assert_eq!(line.signature.len(), 8 + 64);
    let time = u64::from_be_bytes(line.signature[..8].try_into().unwrap());
    assert_eq!(time, 1_679_315_147);
}

#[test]
fn a_cosignature_v1_signs_the_spec_message_under_its_own_key_id_and_says_when() {
    let key = SigningKey::from_bytes("chair.example/jones", &[7u8; 32]).unwrap();
    let at = 1_679_315_147u64;
    let line = key.cosign_v1(SOFA, at).unwrap();
    let note = Note::parse(format!("{SOFA}\n{line}").as_bytes()).unwrap();
    let cosigner = key.verifier().as_cosigner();

    // The key id is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4], as the spec says.
    let mut hashed = b"chair.example/jones\n\x04".to_vec();
    hashed.extend_from_slice(key.verifier().public.as_bytes());
    let digest = Sha256::digest(&hashed);
    assert_eq!(cosigner.key_id, digest[..4]);
    let sig = &note.signatures()[0];
    assert_eq!(sig.key_id, cosigner.key_id);
    // The signature is the timestamp then Ed25519 over the spec's message.
    assert_eq!(sig.signature[..8], at.to_be_bytes());
    let message = format!("cosignature/v1\ntime {at}\n{SOFA}");
    let signature = Signature::from_slice(&sig.signature[8..]).unwrap();
    key.verifier()
        .public
        .verify_strict(message.as_bytes(), &signature)
        .unwrap();

    // Verified with the cosigner key, it says when; the plain key does not count it.
    let verified = note.verify(std::slice::from_ref(&cosigner)).unwrap();
    assert_eq!(verified[0].timestamp, Some(at));
    assert!(matches!(
        note.verify(&[key.verifier()]),
        Err(NoteError::NoTrustedSignature { .. })
    ));

    // Another time under the same signature is refused.
    let mut moved = sig.signature.clone();
    moved[..8].copy_from_slice(&(at + 1).to_be_bytes());
    let forged = NoteSignature {
        name: sig.name.clone(),
        key_id: sig.key_id,
        signature: moved,
    };
    let forged = Note::parse(format!("{SOFA}\n{}", forged.to_line()).as_bytes()).unwrap();
    assert!(matches!(
        forged.verify(std::slice::from_ref(&cosigner)),
        Err(NoteError::BadSignature { .. })
    ));

    // Its vkey is type 0x04 and reads back as a cosigner key.
    let vkey = cosigner.to_vkey_string();
    let decoded = STANDARD.decode(vkey.rsplit('+').next().unwrap()).unwrap();
    assert_eq!(decoded[0], 0x04);
    assert_eq!(VerifierKey::parse(&vkey).unwrap(), cosigner);
    assert_eq!(
        VerifierKey::parse(&vkey).unwrap().kind,
        KeyKind::CosignatureV1
    );
}
