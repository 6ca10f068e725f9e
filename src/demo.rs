//! `assure demo`: builds a small ledger from a real plan (the Manchester JTAI serious
//! violence plan, November 2023) in a folder of its own, records a few months of
//! progress, challenge and carry-over, and shows the views and the verification.
//!
//! It goes through the same command functions a user runs, so the demo cannot show
//! anything the CLI cannot do. It deletes only a folder that it made itself.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use projections::Rag;

use crate::app::App;
use crate::cli::ImportArgs;
use crate::cli::TimeArgs;
use crate::commands::{challenges, plans};
use crate::dates::parse_date;

const FIXTURE: &[u8] = include_bytes!("demo/manchester-jtai-2023.csv");
const DEMO_MARKER: &str = "ASSURE-DEMO";

fn day(text: &str) -> Result<i32> {
    parse_date("date", text)
}

fn prepare_folder(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.join(DEMO_MARKER).is_file() {
            bail!(crate::exit::Usage(format!(
                "{} exists and was not made by `assure demo`; choose another folder with --dir",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the previous demo in {}", dir.display()))?;
    }
    crate::commands::proofs::init(dir, None)?;
    std::fs::write(
        dir.join(DEMO_MARKER),
        "made by `assure demo`; safe to delete\n",
    )
    .context("marking the demo folder")?;
    Ok(())
}

pub fn run(dir: &Path) -> Result<()> {
    prepare_folder(dir)?;
    let csv_path = dir.join("manchester-jtai-2023.csv");
    std::fs::write(&csv_path, FIXTURE).context("writing the demo plan")?;
    let evidence_path = dir.join("scorecard-q4.txt");
    std::fs::write(
        &evidence_path,
        "Serious Violence scorecard, Q4 2023-24: 12 of 15 measures reported.\n",
    )
    .context("writing the demo evidence")?;

    let manager = |dir: &Path| App::open(dir, "business.manager".into());
    let chair = |dir: &Path| App::open(dir, "independent.chair".into());
    let plan = "mcr-jtai-2023";
    let next = "mcr-jtai-2024";

    println!(
        "== Building a demonstration ledger in {} ==\n",
        dir.display()
    );
    let mut app = manager(dir)?;
    plans::import_into(
        Some(&mut app),
        &ImportArgs {
            title: Some("Manchester JTAI serious violence action plan".into()),
            period: Some("2023-24".into()),
            effective: Some("2023-11-20".into()),
            ..ImportArgs::new(csv_path.clone(), plan)
        },
    )?;
    plans::status(
        &mut app,
        plan,
        "1.1",
        Rag::Amber,
        "Evaluation framework drafted; scorecard in design with the VRU.",
        day("2024-01-15")?,
    )?;
    plans::status(
        &mut app,
        plan,
        "6.1",
        Rag::Complete,
        "7 Minute Briefing published on the MSP site and circulated.",
        day("2024-02-12")?,
    )?;
    plans::progress(
        &mut app,
        plan,
        "1.1",
        "Scorecard reported to the Serious Violence Board.",
        std::slice::from_ref(&evidence_path),
        day("2024-03-28")?,
    )?;
    plans::status(
        &mut app,
        plan,
        "2.2",
        Rag::Red,
        "No annual review date agreed yet.",
        day("2024-03-01")?,
    )?;
    for (id, name, aliases) in [
        ("gmp", "Greater Manchester Police", &["GMP"][..]),
        (
            "mft",
            "Manchester University NHS Foundation Trust",
            &["MFT", "Health"][..],
        ),
        (
            "mcc",
            "Manchester City Council",
            &["Children's Services", "MCC"][..],
        ),
    ] {
        let aliases = aliases.iter().map(|a| (*a).to_owned()).collect();
        challenges::agency_add(&mut app, id, name, aliases, day("2023-11-20")?)?;
    }
    drop(app);

    let mut app = chair(dir)?;
    challenges::raise(
        &mut app,
        "Greater Manchester Police",
        "How is the Engage offer being communicated to practitioners?",
        &[format!("{plan}/6.2")],
        Some(day("2024-03-15")?),
        day("2024-02-20")?,
    )?;
    challenges::raise(
        &mut app,
        "Manchester University NHS Foundation Trust",
        "What is the waiting-well offer's start date?",
        &[format!("{plan}/6.5")],
        Some(day("2024-04-30")?),
        day("2024-03-20")?,
    )?;
    challenges::respond(
        &mut app,
        "C-0001",
        "Engage briefing added to the MSP bulletin; 240 practitioners reached.",
        &[],
        day("2024-03-10")?,
    )?;
    challenges::close(
        &mut app,
        "C-0001",
        "Assured: communication delivered.",
        Some("Referrals to Engage up 18% in the following quarter.".into()),
        day("2024-03-25")?,
    )?;
    drop(app);

    let mut app = manager(dir)?;
    plans::create(
        &mut app,
        next,
        "Manchester serious violence action plan 2024-25",
        Some("2024-25".into()),
        day("2024-04-01")?,
    )?;
    plans::carry_over(
        &mut app,
        (plan, "6.5"),
        (next, "1.1"),
        "Pilot not yet launched; agreed to continue.",
        Some("MSP Executive, April 2024".into()),
        projections::planned::CarryOptions {
            timescale: Some("March 2025".into()),
            ..Default::default()
        },
        day("2024-04-02")?,
    )?;

    let no_time = TimeArgs {
        as_of: None,
        known_at: None,
    };
    println!("\n== The plan now ==\n");
    plans::show(&app, plan, &no_time, false)?;
    println!("\n== The same plan as it stood on 2024-01-31 ==\n");
    plans::show(
        &app,
        plan,
        &TimeArgs {
            as_of: Some("2024-01-31".into()),
            known_at: None,
        },
        false,
    )?;
    println!("\n== The challenge log ==\n");
    challenges::list(&app, false, None, &no_time, false)?;
    println!("\n== Verification ==\n");
    crate::commands::audit::verify(&app, false)?;
    println!("\n== A checkpoint for the board minutes, co-signed by the chair ==\n");
    let mut app = app;
    let chair_key = dir.join("chair.key");
    crate::commands::proofs::key_new("chair.example/independent-chair", &chair_key)?;
    crate::commands::proofs::checkpoint(&mut app, None)?;
    let minutes = dir.join("checkpoint-for-minutes.txt");
    std::fs::write(
        &minutes,
        app.ledger
            .latest_checkpoint()?
            .map(|c| c.to_string())
            .unwrap_or_default(),
    )
    .context("writing the checkpoint")?;
    // As a C2SP cosignature/v1: it says when the chair signed.
    crate::commands::proofs::cosign(&mut app, &minutes, &chair_key, None, true)?;
    println!(
        "\nTry: assure --data {} history   ·   assure --data {} action {plan} 6.5",
        dir.display(),
        dir.display()
    );
    Ok(())
}
