//! Restore from an export: a ledger rebuilt from a verified bundle of the whole
//! ledger holds every event exactly as it was (the same history, hashes, roots and
//! proofs), signs on with the same key, and a bundle that does not verify, an
//! excerpt, a wrong key or a folder in use restores nothing.

use std::path::Path;

use crate::support::{ok, Run};

const PLAN: &str = "mcr-jtai-2023";

fn assure(data: &Path, args: &[&str]) -> Run {
    crate::support::run(data, "restore.tester", args)
}

/// An exported demo ledger with an erased event: its folder, the bundle and the
/// ledger's verifier key.
fn exported(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let data = dir.join("data");
    assure::demo::run(&data).unwrap();
    // An erasure, so the restore carries an event whose words are gone.
    ok(
        assure(
            &data,
            &["redact", "5", "--reason", "Named a child", "--yes"],
        ),
        "redact",
    );
    let bundle = dir.join("bundle");
    let export = ok(
        assure(&data, &["export", "--out", bundle.to_str().unwrap()]),
        "export",
    );
    let vkey = export
        .stdout
        .split("--trust ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    (data, bundle, vkey)
}

#[test]
fn a_restored_ledger_is_the_ledger_it_was_and_signs_on_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let (data, bundle, vkey) = exported(dir.path());
    let restored = dir.path().join("restored");
    let key = data.join("keys/ledger.key");
    // The checkpoint the chair co-signed for the minutes, as the chair keeps it.
    let minutes = ok(
        assure(
            &data,
            &[
                "checkpoint",
                "cosign",
                data.join("checkpoint-for-minutes.txt").to_str().unwrap(),
                "--key",
                data.join("chair.key").to_str().unwrap(),
                "--offline",
            ],
        ),
        "the chair co-signs offline",
    );
    let kept = dir.path().join("cosigned-checkpoint");
    std::fs::write(&kept, minutes.stdout).unwrap();
    let chair = std::fs::read_to_string(data.join("chair.key")).unwrap();
    let chair = ledger::note::SigningKey::from_file_string(chair.trim())
        .unwrap()
        .verifier()
        .to_vkey_string();
    let run = ok(
        assure(
            &restored,
            &[
                "restore",
                "--bundle",
                bundle.to_str().unwrap(),
                "--trust",
                &vkey,
                "--key",
                key.to_str().unwrap(),
                // The chair's co-signed checkpoint, kept outside the folder.
                "--checkpoint",
                kept.to_str().unwrap(),
                "--trust",
                &chair,
            ],
        ),
        "restore",
    );
    assert!(run.stdout.contains("Restored"), "{}", run.stdout);

    // The same answers, to the byte: history with every hash, the plan, the erased
    // event still erased, the checkpoint and a proof.
    for args in [
        vec!["history", "--json"],
        vec!["plan", PLAN, "--json"],
        vec!["challenges", "--json"],
        vec!["checkpoints"],
        vec!["proof", "3"],
    ] {
        let (before, after) = (assure(&data, &args), assure(&restored, &args));
        assert_eq!(
            (before.code, &before.stdout),
            (after.code, &after.stdout),
            "assure {args:?} after the restore"
        );
    }
    ok(assure(&restored, &["verify"]), "verify the restored ledger");

    // It goes on: a change, and a checkpoint signed by the same key that extends
    // the one exported.
    ok(
        assure(
            &restored,
            &[
                "status",
                PLAN,
                "1.2",
                "green",
                "--note",
                "After the restore",
            ],
        ),
        "a change after the restore",
    );
    let checkpoint = dir.path().join("exported-checkpoint");
    std::fs::copy(bundle.join("checkpoint"), &checkpoint).unwrap();
    ok(assure(&restored, &["checkpoint"]), "sign a new checkpoint");
    ok(
        assure(
            &restored,
            &[
                "verify",
                "--against",
                checkpoint.to_str().unwrap(),
                "--trust",
                &vkey,
            ],
        ),
        "the restored ledger extends the checkpoint exported",
    );
}

#[test]
fn a_bundle_that_does_not_verify_an_excerpt_a_wrong_key_or_a_used_folder_restore_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (data, bundle, vkey) = exported(dir.path());
    let restore = |target: &Path, bundle: &Path, extra: &[&str]| {
        let mut args = vec![
            "restore",
            "--bundle",
            bundle.to_str().unwrap(),
            "--trust",
            &vkey,
        ];
        args.extend_from_slice(extra);
        assure(target, &args)
    };
    let nothing_at = |target: &Path| {
        assert!(!target.exists(), "{} was left behind", target.display());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "a half-restored folder was left: {leftovers:?}"
        );
    };

    // One altered word in one event.
    let altered = dir.path().join("altered");
    copy_dir(&bundle, &altered);
    let events = std::fs::read_to_string(altered.join("events.jsonl")).unwrap();
    let mut lines: Vec<String> = events.lines().map(str::to_owned).collect();
    let line: &mut String = &mut lines[8];
    let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["actor"] = serde_json::Value::String("someone.else".into());
    *line = value.to_string();
    std::fs::write(altered.join("events.jsonl"), lines.join("\n") + "\n").unwrap();
    let target = dir.path().join("from-altered");
    let refused = restore(&target, &altered, &[]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("does not verify"),
        "{}",
        refused.stderr
    );
    nothing_at(&target);

    // A key nobody trusts.
    let target = dir.path().join("untrusted");
    let stranger = ledger::note::SigningKey::generate("someone.else/key").unwrap();
    let refused = assure(
        &target,
        &[
            "restore",
            "--bundle",
            bundle.to_str().unwrap(),
            "--trust",
            &stranger.verifier().to_vkey_string(),
        ],
    );
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    nothing_at(&target);

    // An excerpt is not the whole ledger.
    let excerpt = dir.path().join("excerpt");
    ok(
        assure(
            &data,
            &[
                "export",
                "--out",
                excerpt.to_str().unwrap(),
                "--subject",
                "challenge/",
            ],
        ),
        "export an excerpt",
    );
    let target = dir.path().join("from-excerpt");
    let refused = restore(&target, &excerpt, &[]);
    assert!(refused.stderr.contains("excerpt"), "{}", refused.stderr);
    nothing_at(&target);

    // A signing key that is not the ledger's.
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, stranger.to_file_string()).unwrap();
    let target = dir.path().join("wrong-key");
    let refused = restore(&target, &bundle, &["--key", wrong.to_str().unwrap()]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("not the key that signed"),
        "{}",
        refused.stderr
    );
    nothing_at(&target);

    // Never over a folder that holds anything, least of all a ledger.
    let refused = restore(&data, &bundle, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("not empty"), "{}", refused.stderr);
    ok(assure(&data, &["verify"]), "the old ledger is untouched");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn an_exports_keys_name_every_key_that_signed_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assure::demo::run(&data).unwrap();
    // The demo's latest checkpoint is co-signed by its chair; register the chair's key.
    let chair = std::fs::read_to_string(data.join("chair.key")).unwrap();
    let chair = ledger::note::SigningKey::from_file_string(chair.trim()).unwrap();
    // The demo's chair co-signs as a C2SP cosigner (cosignature/v1).
    let chair_vkey = chair.verifier().as_cosigner().to_vkey_string();
    let mut accounts = assure::web::accounts::Accounts::default();
    accounts
        .add_user(
            "chair",
            assure::web::accounts::Role::Chair,
            None,
            "correct horse battery staple",
        )
        .unwrap();
    accounts.set_vkey("chair", &chair_vkey).unwrap();
    accounts.save(&data).unwrap();

    let bundle = dir.path().join("bundle");
    ok(
        assure(&data, &["export", "--out", bundle.to_str().unwrap()]),
        "export",
    );
    let keys = std::fs::read_to_string(bundle.join("keys")).unwrap();
    let lines: Vec<&str> = keys.lines().collect();
    assert_eq!(lines.len(), 2, "{keys}");
    assert!(lines[0].starts_with("assure.ledger/"), "{keys}");
    assert_eq!(lines[1], chair_vkey);
    // The chair's key alone is enough to trust the bundle.
    ok(
        assure(
            &data,
            &[
                "verify",
                "--bundle",
                bundle.to_str().unwrap(),
                "--trust",
                &chair_vkey,
            ],
        ),
        "verify trusting only the chair",
    );
}

/// `assure backup`: one folder, whole or absent, from which `restore` rebuilds a
/// working ledger — the events, every checkpoint with its co-signatures, the
/// accounts (still owner-only) and the witnesses it asks.
#[test]
fn a_backup_restores_a_working_ledger_and_is_whole_or_absent() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (data, _, vkey) = exported(dir.path());
    let add = ["user", "add", "chair", "--role", "chair"];
    let added = crate::support::run_with_input(&data, "t", &add, "long enough password\n");
    ok(added, "an account");
    let witness_key = dir.path().join("w.key");
    let witness_key = witness_key.to_str().unwrap();
    let name = "inspectorate.example/witness";
    ok(
        assure(&data, &["key", "new", "--name", name, "--out", witness_key]),
        "a witness key",
    );
    let shown = assure(&data, &["key", "show", "--key", witness_key, "--cosigner"]);
    let witness = ok(shown, "its cosigner key").stdout.trim().to_owned();
    ok(
        assure(
            &data,
            &["witness", "add", "https://witness.example/", &witness],
        ),
        "witness add",
    );
    let out = dir.path().join("backups");
    let made = ok(
        assure(&data, &["backup", "--out", out.to_str().unwrap()]),
        "backup",
    );
    let folders: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        folders.len(),
        1,
        "one folder, nothing left half-written: {folders:?}"
    );
    let backup = &folders[0];
    assert!(
        made.stdout.contains(backup.to_str().unwrap()),
        "{}",
        made.stdout
    );
    assert_eq!(assure::web::accounts::FILE, "accounts.json");
    let accounts = backup.join(assure::commands::backup::ACCOUNTS_FILE);
    assert_eq!(
        std::fs::metadata(&accounts).unwrap().permissions().mode() & 0o077,
        0,
        "accounts stay owner-only"
    );
    assert!(
        !std::fs::read_dir(backup.join("keys")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".key")),
        "the signing key is never in a backup"
    );

    let restored = dir.path().join("restored");
    let done = ok(
        assure(
            &restored,
            &[
                "restore",
                "--bundle",
                backup.to_str().unwrap(),
                "--trust",
                &vkey,
            ],
        ),
        "restore from the backup",
    );
    assert!(
        !done.stdout.contains("Accounts are not in"),
        "{}",
        done.stdout
    );
    let same = |args: &[&str]| {
        assert_eq!(
            ok(assure(&data, args), "original").stdout,
            ok(assure(&restored, args), "restored").stdout,
            "{args:?}"
        );
    };
    same(&["history", "--json"]);
    same(&["checkpoints"]);
    same(&["plan", PLAN, "--as-of", "2024-01-31"]);
    same(&["user", "list"]);
    same(&["witness", "list"]);
    assert_eq!(
        std::fs::read(&accounts).unwrap(),
        std::fs::read(restored.join("accounts.json")).unwrap()
    );
    ok(
        assure(&restored, &["verify"]),
        "the restored ledger verifies",
    );

    // A backup that cannot be completed leaves nothing behind: here no checkpoint can
    // be signed for the new events (the signing key is gone).
    ok(
        assure(
            &data,
            &[
                "status",
                PLAN,
                "1.1",
                "green",
                "--note",
                "n",
                "--effective",
                "2024-03-01",
            ],
        ),
        "a change",
    );
    std::fs::remove_file(data.join("keys/ledger.key")).unwrap();
    let _ = std::fs::remove_file(data.join("keys/ledger.key-location"));
    let failed = assure(&data, &["backup", "--out", out.to_str().unwrap()]);
    assert_ne!(failed.code, 0, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("no backup was made"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "only the first backup"
    );
}
