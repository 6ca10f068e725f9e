//! Dispatch: one function per command, grouped by what the user is doing.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod beside;
pub mod challenges;
pub mod export;
pub mod plans;
pub mod proofs;
pub mod serve;
pub mod witness;

use anyhow::{Context as _, Result};
use projections::events::{Evidence, Rag};
use projections::planned::CarryOptions;

use crate::app::{actor_name, App};
use crate::cli::{
    ChallengeCommand, CheckpointCommand, Cli, Command, Effective, KeyCommand, TokenCommand,
    UserCommand, WitnessCommand,
};
use crate::exit::Usage;

/// Runs a command on the command line's own copy of the ledger. When the folder is
/// in use because `assure serve` runs on it, says so and how to make the change
/// (a read-only command never gets here then: `beside::answered` had the service
/// answer it).
pub fn run(cli: Cli) -> Result<()> {
    let actor = actor_name(cli.actor);
    let data = cli.data;
    dispatch(cli.command, &data, || App::open(&data, actor.clone()))
        .map_err(|error| beside::explain_in_use(error, &data))
}

/// Runs `command` on the ledger `open` gives (the command line's own, or one the
/// service lends for a read-only command).
pub fn dispatch<'a>(
    command: Command,
    data: &std::path::Path,
    open: impl Fn() -> Result<App<'a>>,
) -> Result<()> {
    let data = data.to_path_buf();
    match command {
        Command::Init { key } => proofs::init(&data, key.as_deref()),
        Command::Key(KeyCommand::New { name, out }) => proofs::key_new(&name, &out),
        Command::Key(KeyCommand::Show { key, cosigner }) => {
            proofs::key_show(&data, key.as_deref(), cosigner)
        }
        Command::Checkpoint { key, action: None } => {
            proofs::checkpoint(&mut open()?, key.as_deref())
        }
        Command::Checkpoint {
            action:
                Some(CheckpointCommand::Cosign {
                    file,
                    key,
                    out,
                    offline: true,
                    cosignature_v1,
                }),
            ..
        } => proofs::cosign_offline(&file, &key, out.as_deref(), cosignature_v1),
        Command::Checkpoint {
            action:
                Some(CheckpointCommand::Cosign {
                    file,
                    key,
                    out,
                    cosignature_v1,
                    ..
                }),
            ..
        } => proofs::cosign(&mut open()?, &file, &key, out.as_deref(), cosignature_v1),
        Command::Checkpoints => proofs::list(&open()?),
        Command::Witness(WitnessCommand::Init { dir, name, logs }) => {
            witness::init(&dir, &name, &logs)
        }
        Command::Witness(WitnessCommand::AddCheckpoint { files, input }) => {
            witness::add_checkpoint(&files, input.as_deref())
        }
        Command::Witness(WitnessCommand::Request { old }) => witness::request(&open()?, old),
        Command::Witness(WitnessCommand::Serve { addr, files }) => serve::witness(addr, &files),
        Command::Witness(WitnessCommand::Add { url, vkey }) => witness::add(&data, &url, &vkey),
        Command::Witness(WitnessCommand::List) => witness::list(&data),
        Command::Witness(WitnessCommand::Remove { witness }) => witness::remove(&data, &witness),
        Command::Witness(WitnessCommand::Ask) => witness::ask(&mut open()?),
        Command::Witness(WitnessCommand::Attach { file, witness }) => {
            witness::attach(&mut open()?, &file, &witness)
        }
        Command::Proof { seq, key } => proofs::proof(&mut open()?, seq, key.as_deref()),
        Command::Demo { dir } => crate::demo::run(&dir),
        Command::Serve { addr, demo, tls } => serve::run(&data, addr, demo, tls),
        Command::User(UserCommand::Add { name, role, agency }) => {
            accounts::user_add(&data, &name, &role, agency)
        }
        Command::User(UserCommand::List) => accounts::user_list(&data),
        Command::User(UserCommand::Vkey { name, vkey }) => accounts::user_vkey(&data, &name, &vkey),
        Command::User(UserCommand::Passwd { name }) => accounts::passwd(&data, &name),
        Command::User(UserCommand::Disable { name }) => accounts::set_enabled(&data, &name, false),
        Command::User(UserCommand::Enable { name }) => accounts::set_enabled(&data, &name, true),
        Command::User(UserCommand::Remove { name, yes }) => accounts::remove(&data, &name, yes),
        Command::Token(TokenCommand::New {
            name,
            label,
            expires,
            expires_in,
        }) => accounts::token_new(
            &data,
            &name,
            label.as_deref(),
            expires.as_deref(),
            expires_in,
        ),
        Command::Token(TokenCommand::List { name }) => accounts::token_list(&data, name.as_deref()),
        Command::Token(TokenCommand::Revoke { name, label_or_id }) => {
            accounts::token_revoke(&data, &name, &label_or_id)
        }
        Command::Report { id, as_of, out } => serve::report(&open()?, &id, as_of.as_deref(), &out),
        Command::CreatePlan {
            id,
            title,
            period,
            effective,
        } => plans::create(
            &mut open()?,
            &id,
            &title,
            period,
            effective_day(&effective)?,
        ),
        Command::Import(args) => plans::import(&data, open, &args),
        Command::Plans { json } => plans::list(&open()?, json),
        Command::Plan { id, time, json } => plans::show(&open()?, &id, &time, json),
        Command::Action {
            id,
            reference,
            time,
            json,
        } => plans::action(&open()?, &id, &reference, &time, json),
        Command::Status {
            id,
            reference,
            status,
            note,
            effective,
        } => {
            let status = rag(status, &id, &reference)?;
            plans::status(
                &mut open()?,
                &id,
                &reference,
                status,
                &note,
                effective_day(&effective)?,
            )
        }
        Command::Progress {
            id,
            reference,
            note,
            evidence,
            effective,
        } => plans::progress(
            &mut open()?,
            &id,
            &reference,
            &note,
            &evidence,
            effective_day(&effective)?,
        ),
        Command::Amend {
            id,
            reference,
            title,
            leads,
            timescale,
            reason,
            effective,
        } => plans::amend(
            &mut open()?,
            &id,
            &reference,
            title,
            leads,
            timescale,
            &reason,
            effective_day(&effective)?,
        ),
        Command::CarryOver {
            id,
            reference,
            to,
            as_ref,
            reason,
            forum,
            priority,
            timescale,
            status,
            effective,
        } => {
            let to_ref = as_ref.unwrap_or_else(|| reference.clone());
            let options = CarryOptions {
                priority,
                timescale,
                status: status.map(|s| rag(s, &id, &reference)).transpose()?,
            };
            plans::carry_over(
                &mut open()?,
                (&id, &reference),
                (&to, &to_ref),
                &reason,
                forum,
                options,
                effective_day(&effective)?,
            )
        }
        Command::Challenge(command) => match command {
            ChallengeCommand::Raise {
                to,
                text,
                about,
                due,
                effective,
            } => {
                let due = crate::app::input::optional_date(due.as_deref(), "--due")?;
                challenges::raise(
                    &mut open()?,
                    &to,
                    &text,
                    &about,
                    due,
                    effective_day(&effective)?,
                )
            }
            ChallengeCommand::Respond {
                id,
                text,
                evidence,
                effective,
            } => challenges::respond(
                &mut open()?,
                &id,
                &text,
                &evidence,
                effective_day(&effective)?,
            ),
            ChallengeCommand::Escalate {
                id,
                to,
                reason,
                effective,
            } => challenges::escalate(&mut open()?, &id, &to, &reason, effective_day(&effective)?),
            ChallengeCommand::Close {
                id,
                outcome,
                impact,
                effective,
            } => challenges::close(
                &mut open()?,
                &id,
                &outcome,
                impact,
                effective_day(&effective)?,
            ),
            ChallengeCommand::Reopen {
                id,
                reason,
                due,
                effective,
            } => {
                let due = crate::app::input::optional_date(due.as_deref(), "--due")?;
                challenges::reopen(&mut open()?, &id, &reason, due, effective_day(&effective)?)
            }
            ChallengeCommand::Extend {
                id,
                due,
                reason,
                effective,
            } => {
                let due = crate::app::input::parse_due(&due)?;
                challenges::extend(&mut open()?, &id, due, &reason, effective_day(&effective)?)
            }
            ChallengeCommand::Show { id, json } => challenges::show(&open()?, &id, json),
        },
        Command::Agency(crate::cli::AgencyCommand::Add {
            id,
            name,
            aliases,
            effective,
        }) => challenges::agency_add(
            &mut open()?,
            &id,
            &name,
            aliases,
            effective_day(&effective)?,
        ),
        Command::Agencies { json } => challenges::agencies(&open()?, json),
        Command::LateAfter {
            days,
            reason,
            effective,
        } => plans::late_after(&mut open()?, days, &reason, effective_day(&effective)?),
        Command::Challenges {
            open: open_only,
            agency,
            time,
            json,
        } => challenges::list(&open()?, open_only, agency, &time, json),
        Command::History { subject, json } => audit::history(&open()?, subject.as_deref(), json),
        Command::Verify {
            json,
            bundle: Some(bundle),
            trust,
            ..
        } => export::verify(&bundle, &trust, json),
        Command::Verify {
            json,
            against: Some(against),
            trust,
            ..
        } => proofs::verify_against(&open()?, &against, &trust, json),
        Command::Verify { json, .. } => audit::verify(&open()?, json),
        Command::Tiles { out, key, check } => {
            proofs::tiles(&mut open()?, &out, key.as_deref(), check)
        }
        Command::Restore {
            bundle,
            trust,
            key,
            checkpoints,
        } => export::restore(&data, &bundle, &trust, key.as_deref(), &checkpoints),
        Command::Backup { out, key } => backup::backup(
            &mut open()?.ledger,
            &out,
            key.as_deref(),
            &accounts::registered_vkeys(&data),
        ),
        Command::Export { out, subject, key } => export::export(
            &mut open()?.ledger,
            &out,
            subject.as_deref(),
            key.as_deref(),
            &accounts::registered_vkeys(&data),
        ),
        Command::Redact {
            seq,
            reason,
            yes,
            effective,
        } => audit::redact(open()?, seq, &reason, effective_day(&effective)?, yes).map(drop),
    }
}

/// The RAG a status argument names; blue (carried over) is refused, since carrying
/// over records it.
fn rag(status: crate::cli::StatusArg, id: &str, reference: &str) -> Result<Rag> {
    use crate::cli::StatusArg;
    Ok(match status {
        StatusArg::Green => Rag::Green,
        StatusArg::Amber => Rag::Amber,
        StatusArg::Red => Rag::Red,
        StatusArg::Complete => Rag::Complete,
        StatusArg::NotStarted => Rag::NotStarted,
        StatusArg::Blue => {
            return Err(Usage(format!(
                "blue (carried over) is not a status one sets: carry the action into next year's plan with `assure carry-over {id} {reference} --to PLAN`"
            ))
            .into())
        }
    })
}

fn effective_day(effective: &Effective) -> Result<i32> {
    crate::app::input::effective_day(effective.effective.as_deref(), "--effective")
}

/// Reads evidence files named on the command line: their bytes (to store) and the
/// `Evidence` records (to put in the event). Only the file name is kept, never the path.
fn read_evidence(paths: &[std::path::PathBuf]) -> Result<(Vec<Vec<u8>>, Vec<Evidence>)> {
    let mut blobs = Vec::new();
    let mut records = Vec::new();
    for path in paths {
        let size = std::fs::metadata(path)
            .map_err(|e| {
                Usage(format!(
                    "evidence file {} cannot be read ({e}); check the path",
                    path.display()
                ))
            })?
            .len();
        if size > ledger::blobs::MAX_BLOB_BYTES {
            return Err(Usage(format!(
                "evidence file {} is {size} bytes, over the limit of {} MiB; split it or attach a smaller copy",
                path.display(),
                ledger::blobs::MAX_BLOB_BYTES / 1024 / 1024
            ))
            .into());
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading evidence file {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || "evidence".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        records.push(crate::app::input::evidence(&name, &bytes)?);
        blobs.push(bytes);
    }
    Ok((blobs, records))
}

/// How a verification ended, for `report_verification`.
struct Verdict<'a> {
    ok: bool,
    /// The line printed when it passed.
    ok_line: String,
    first_bad_seq: Option<u64>,
    problem: Option<&'a str>,
}

/// Prints a verification's outcome (JSON, or a line for people) and turns a failure
/// into exit status 1. Every `verify` form ends here.
fn report_verification<T: serde::Serialize>(
    report: &T,
    json: bool,
    verdict: Verdict<'_>,
) -> Result<()> {
    if json {
        print_json(report)?;
    } else if verdict.ok {
        crate::outln!("{}", verdict.ok_line);
    } else {
        let at = verdict
            .first_bad_seq
            .map(|s| format!(" at seq {s}"))
            .unwrap_or_default();
        crate::outln!(
            "FAILED{at}: {}",
            verdict.problem.unwrap_or("unknown problem")
        );
    }
    if verdict.ok {
        Ok(())
    } else {
        // A copy of the store kept before this command opened it stays (see main).
        ledger::preserve::damage_seen();
        Err(crate::exit::VerificationFailed.into())
    }
}

/// Prints a value as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    crate::outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
