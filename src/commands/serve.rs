//! `serve` and `report`: the web service and its demo accounts, and the inspection
//! report the pages also serve. (`user` and `token` are `accounts.rs`'s.)

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context as _, Result};
use projections::read::{world_at, TimeQuery};

use crate::app::{App, Subjects};
use crate::exit::Usage;
use crate::web::accounts::{Accounts, Role};

/// Demo accounts: one per role, with passwords made on first start and kept in the
/// demo folder so every start can print them.
const DEMO_USERS: [(&str, Role, Option<&str>); 4] = [
    ("chair", Role::Chair, None),
    ("manager", Role::Manager, None),
    ("partner", Role::Partner, Some("GMP")),
    ("auditor", Role::Auditor, None),
];

pub fn run(data: &Path, addr: SocketAddr, demo: bool, tls: bool) -> Result<()> {
    let data = if demo {
        let dir = if data == Path::new("assure-data") {
            Path::new("assure-demo")
        } else {
            data
        };
        prepare_demo(dir)?;
        dir.to_path_buf()
    } else {
        data.to_path_buf()
    };
    crate::web::serve(&data, addr, tls, |ledger| {
        super::beside::listen(&data, ledger)
    })
}

fn prepare_demo(dir: &Path) -> Result<()> {
    let passwords = dir.join("demo-accounts.txt");
    if !passwords.is_file() {
        crate::demo::run(dir)?;
        let mut accounts = Accounts::default();
        let mut lines = String::new();
        for (name, role, agency) in DEMO_USERS {
            let password = crate::web::accounts::random_id()?[..16].to_owned();
            accounts.add_user(name, role, agency.map(str::to_owned), &password)?;
            lines.push_str(&format!("{name} {password} ({})\n", role.label()));
        }
        // The demo's chair key (made by `assure demo`) checks the chair's co-signatures.
        if let Ok(text) = std::fs::read_to_string(dir.join("chair.key")) {
            if let Ok(key) = ledger::note::SigningKey::from_file_string(&text) {
                // The demo's chair co-signs as a C2SP cosigner (cosignature/v1).
                accounts.set_vkey("chair", &key.verifier().as_cosigner().to_vkey_string())?;
            }
        }
        accounts.save(dir)?;
        std::fs::write(&passwords, lines).context("writing the demo passwords")?;
    }
    let text = std::fs::read_to_string(&passwords).context("reading the demo passwords")?;
    crate::outln!("\nDemo accounts (user name, password):");
    for line in text.lines() {
        crate::outln!("  {line}");
    }
    crate::outln!("The partner lead speaks for GMP. Sign in at the address below.\n");
    Ok(())
}

pub fn report(app: &App, id: &str, as_of: Option<&str>, out: &Path) -> Result<()> {
    projections::planned::check_id("plan id", id)?;
    let query = TimeQuery {
        as_of: crate::app::input::optional_date(as_of, "--as-of")?,
        known_at: None,
    };
    let missing = || {
        Usage(format!(
            "no plan {id} (as of that date); `assure plans` lists them"
        ))
    };
    let view = app.plan_at(id, query)?.ok_or_else(missing)?;
    let loaded = app.load(&Subjects::plan(id))?;
    let mut events = loaded.clone();
    events.extend(app.load(&[Subjects::Prefix("challenge/".into())])?);
    let world = world_at(&events, query);
    // The board's picture: the plan at the end of each month, from one load.
    let shown = query.as_of.unwrap_or_else(crate::dates::today);
    let (months, quiet_after) = match world.plan(id) {
        Some(plan) => {
            let (start, until, quiet) = crate::web::chart::span(plan, shown);
            let index = projections::read::EventIndex::of(&loaded);
            let snapshots = projections::read::Snapshots::none();
            let months = crate::web::chart::months(start, until, |day| {
                let at = TimeQuery {
                    as_of: Some(day),
                    known_at: None,
                };
                // Over events in memory: it cannot fail to read them.
                let view = projections::read::plan_at(&snapshots, || &index, id, &at, day);
                view.ok().flatten().map(|v| v.counts)
            });
            (months, quiet)
        }
        None => (Vec::new(), None),
    };
    let accounts = crate::web::accounts::Accounts::load(app.ledger.dir())?;
    let statement = crate::web::pages::report::verification_statement(&app.ledger, &accounts);
    let picture = crate::web::pages::report::Picture {
        months: &months,
        quiet_after,
    };
    let report = crate::web::pages::report::report_markup(
        &view,
        &world,
        query.as_of,
        &statement,
        app.late_after()?,
        &picture,
        crate::web::pages::report::Styles::Inline,
    )
    .ok_or_else(missing)?;
    let markup = report.markup;
    crate::app::write_durably(out, markup.into_string().as_bytes())?;
    crate::outln!("Wrote the inspection report for {id} to {}.", out.display());
    Ok(())
}

/// `witness serve`: the witness (`commands/witness.rs` answers one request on the
/// command line; this answers them over HTTP).
pub fn witness(addr: SocketAddr, files: &crate::cli::WitnessFiles) -> Result<()> {
    let (key, trusted, state) = super::witness::witness_files(files)?;
    let router = crate::web::witness::witness_routes(&state, key, trusted)?;
    crate::web::witness::serve_witness(addr, router)
}
