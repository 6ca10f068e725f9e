//! The command line, as clap parses it. This is the contract scripts and tests rely
//! on (see README): names and flags change only with care.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "assure",
    version,
    about = "An audit and assurance ledger for multi-agency action plans"
)]
pub struct Cli {
    /// The data folder [default: $ASSURE_DATA or ./assure-data]
    #[arg(
        long,
        global = true,
        env = "ASSURE_DATA",
        default_value = "assure-data",
        hide_env_values = true
    )]
    pub data: PathBuf,

    /// Who is making the change [default: $ASSURE_ACTOR or your login name]
    #[arg(long, global = true, env = "ASSURE_ACTOR", hide_env_values = true)]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Effective {
    /// The date the change took effect (YYYY-MM-DD or DD/MM/YYYY, four-digit year) [default: today]
    #[arg(long)]
    pub effective: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The plan's file: .docx, .xlsx, .xlsm, .ods, or CSV/TSV text (any encoding)
    pub file: PathBuf,
    #[arg(long)]
    pub plan: String,
    /// The plan's title [default: the first line above the file's header row, else the file name]
    #[arg(long)]
    pub title: Option<String>,
    /// The plan's period, e.g. 2024-25 (also reads two-digit years in timescales)
    #[arg(long)]
    pub period: Option<String>,
    /// When the plan starts: the plan and its actions exist from then (YYYY-MM-DD or DD/MM/YYYY, four-digit year) [default: today]
    #[arg(long)]
    pub effective: Option<String>,
    /// The date the file's statuses and progress describe (YYYY-MM-DD or DD/MM/YYYY, four-digit year) [default: --effective]
    #[arg(long)]
    pub as_at: Option<String>,
    /// The sheet of a workbook to read [default: the first visible sheet]
    #[arg(long)]
    pub sheet: Option<String>,
    /// Read a column as a field: "HEADER=FIELD", FIELD one of ref, priority, action,
    /// impact, outcome, lead, due, status, progress, cross_refs, keep, ignore
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    pub maps: Vec<String>,
    /// What a colour or status word means: "COLOUR=STATUS" (e.g. "Blue=carried-over", "#92D050=green", "Ongoing=amber")
    #[arg(long = "legend", value_name = "COLOUR=STATUS")]
    pub legends: Vec<String>,
    /// Write nothing: print exactly what would be recorded
    #[arg(long)]
    pub dry_run: bool,
    /// Print the preview (and the result) as JSON
    #[arg(long)]
    pub json: bool,
}

impl ImportArgs {
    /// An import of `file` into plan `plan` with every option at its default.
    pub fn new(file: PathBuf, plan: &str) -> ImportArgs {
        ImportArgs {
            file,
            plan: plan.to_owned(),
            title: None,
            period: None,
            effective: None,
            as_at: None,
            sheet: None,
            maps: Vec::new(),
            legends: Vec::new(),
            dry_run: false,
            json: false,
        }
    }
}

#[derive(Debug, Args)]
pub struct TimeArgs {
    /// Show the state on this date, by effective date (YYYY-MM-DD or DD/MM/YYYY, four-digit year)
    #[arg(long)]
    pub as_of: Option<String>,
    /// Show only what had been recorded by this moment (RFC 3339, or YYYY-MM-DD for the end of that day, UTC)
    #[arg(long)]
    pub known_at: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Green,
    Amber,
    Red,
    /// Complete (a plan's Grey)
    #[value(alias = "grey", alias = "gray")]
    Complete,
    NotStarted,
    /// Carried over (a plan's Blue): recorded by `carry-over`, never set as a status
    #[value(alias = "carried-over")]
    Blue,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty ledger in the data folder, with its signing key
    Init {
        /// Use this signing key (kept outside the data folder) instead of making one inside it
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Make or show signing keys (for the ledger, a chair or an auditor)
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign the current tree head (a checkpoint for the minutes); `checkpoint cosign` adds a co-signature
    Checkpoint {
        /// The ledger's signing key [default: the one made by init]
        #[arg(long)]
        key: Option<PathBuf>,
        #[command(subcommand)]
        action: Option<CheckpointCommand>,
    },
    /// List the checkpoints the ledger holds
    Checkpoints,
    /// A C2SP tlog-witness: co-sign a log's checkpoint only if it extends the one
    /// co-signed before (run by a third party), or make the request a log sends
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Print a C2SP tlog-proof that event SEQ is in the ledger (a receipt to keep)
    Proof {
        seq: u64,
        /// The ledger's signing key, if a new checkpoint is needed
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Create a plan
    CreatePlan {
        id: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        period: Option<String>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Import a plan from a Word document's tables, an Excel or OpenDocument sheet, or
    /// CSV/TSV text (creates the plan if new); every action or none. Preview it first
    /// with --dry-run
    Import(ImportArgs),
    /// List the plans
    Plans {
        #[arg(long)]
        json: bool,
    },
    /// Show a plan, as it stands or as it stood
    Plan {
        id: String,
        #[command(flatten)]
        time: TimeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Show one action and its timeline across carry-overs
    Action {
        id: String,
        reference: String,
        #[command(flatten)]
        time: TimeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Record a RAG status change with its rationale
    Status {
        id: String,
        reference: String,
        #[arg(value_enum)]
        status: StatusArg,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        effective: Effective,
    },
    /// Record a progress note, with evidence files
    Progress {
        id: String,
        reference: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        evidence: Vec<PathBuf>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Reword an action, reassign its leads or rebaseline its timescale
    Amend {
        id: String,
        reference: String,
        #[arg(long)]
        title: Option<String>,
        /// Leads separated by ';'
        #[arg(long)]
        leads: Option<String>,
        #[arg(long)]
        timescale: Option<String>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        effective: Effective,
    },
    /// Carry an unfinished action into another plan (e.g. next year's)
    CarryOver {
        id: String,
        reference: String,
        #[arg(long)]
        to: String,
        /// Its ref in the new plan [default: the same ref]
        #[arg(long = "as")]
        as_ref: Option<String>,
        #[arg(long)]
        reason: String,
        /// The board or forum that agreed it
        #[arg(long)]
        forum: Option<String>,
        /// The priority it goes under in the new plan [default: its own, added if missing]
        #[arg(long)]
        priority: Option<String>,
        /// Its timescale in the new plan [default: its own]
        #[arg(long)]
        timescale: Option<String>,
        /// Its RAG in the new plan [default: its own]
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Raise, answer, escalate, close or reopen a challenge
    #[command(subcommand)]
    Challenge(ChallengeCommand),
    /// Register a partner agency, with the other names plans use for it
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Set how many days after it took effect an entry may be recorded before it is
    /// marked late in the plan, timelines, challenge threads, report and history
    /// (default 14); recorded in the ledger
    LateAfter {
        /// Days, 1 to 366
        days: u16,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        effective: Effective,
    },
    /// The registered partner agencies
    Agencies {
        #[arg(long)]
        json: bool,
    },
    /// The challenge log
    Challenges {
        #[arg(long)]
        open: bool,
        #[arg(long)]
        agency: Option<String>,
        #[command(flatten)]
        time: TimeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Every event, in order, with its hash
    History {
        /// Only subjects starting with this, e.g. plan/mcr-2023 or challenge/C-0001
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Lawfully erase the payload of one event (its header stays; the erasure is itself an event)
    Redact {
        seq: u64,
        #[arg(long)]
        reason: String,
        /// Erase without asking (for scripts); otherwise it says what it will erase and asks
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        effective: Effective,
    },
    /// Check that not a byte of history has changed
    Verify {
        #[arg(long)]
        json: bool,
        /// A signed checkpoint you were given earlier: check that today's ledger extends it
        #[arg(long)]
        against: Option<PathBuf>,
        /// Verify an export bundle (or excerpt) folder instead of the ledger
        #[arg(long, conflicts_with = "against")]
        bundle: Option<PathBuf>,
        /// A verifier key you trust (vkey text or a file of vkey lines); repeatable
        #[arg(long = "trust")]
        trust: Vec<String>,
    },
    /// Rebuild a ledger in --data (a new folder) from an export bundle of the whole
    /// ledger, every event exactly as it was, after verifying the bundle
    Restore {
        /// The export bundle folder (`assure export --out DIR`, or the service's tar unpacked)
        #[arg(long)]
        bundle: PathBuf,
        /// A verifier key you trust (vkey text or a file of vkey lines); repeatable
        #[arg(long = "trust")]
        trust: Vec<String>,
        /// The ledger's signing key, so the restored ledger signs its new checkpoints as before
        #[arg(long)]
        key: Option<PathBuf>,
        /// An earlier signed checkpoint to keep with it (e.g. one the chair co-signed and
        /// kept); it must verify with a trusted key and match the restored tree; repeatable
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
    },
    /// Write an export bundle for inspectors (FORMAT v1 §4); --subject makes an excerpt with a proof per event
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Only events whose subject starts with this, e.g. plan/mcr-2023 or challenge/
        #[arg(long)]
        subject: Option<String>,
        /// The ledger's signing key, if a new checkpoint is needed
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Write a backup: a full export and everything else `restore` needs (checkpoints,
    /// accounts, co-signers' and witnesses' keys), as a new folder in OUT that is whole
    /// or absent. The signing key is never in it: keep that apart
    Backup {
        #[arg(long)]
        out: PathBuf,
        /// The ledger's signing key, if a new checkpoint is needed
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Publish the log as C2SP tlog-tiles in a folder any static host can serve
    /// (written afresh or brought up to date: only new tiles are written)
    Tiles {
        #[arg(long)]
        out: PathBuf,
        /// The ledger's signing key, if a new checkpoint is needed
        #[arg(long)]
        key: Option<PathBuf>,
        /// Read every file already in the folder back and rewrite any whose bytes
        /// are not the log's (an update otherwise trusts the tiles it wrote before)
        #[arg(long)]
        check: bool,
    },
    /// Run the web service (pages for people, a JSON API for scripts)
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Serve a demo ledger (built from a real plan in ./assure-demo the first time), with demo accounts
        #[arg(long)]
        demo: bool,
        /// The service sits behind TLS: mark cookies Secure
        #[arg(long)]
        tls: bool,
    },
    /// Manage the accounts that sign in to the web service
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write the inspection report for a plan as a print-ready HTML page
    Report {
        id: String,
        /// As it stood on this date [default: today]
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Build a demonstration ledger from a real plan and show what Assure does
    Demo {
        /// Where to build it [default: ./assure-demo]
        #[arg(long, default_value = "assure-demo")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; the password is read from a prompt or standard input
    Add {
        name: String,
        /// chair, manager, partner or auditor
        #[arg(long)]
        role: String,
        /// The agency a partner lead speaks for
        #[arg(long)]
        agency: Option<String>,
    },
    /// List the accounts: role, agency, state, tokens and last sign-in
    List,
    /// Register the verifier key that checks NAME's co-signatures (see `checkpoint cosign --offline`)
    Vkey { name: String, vkey: String },
    /// Set a new password (read like `user add`'s); every session signed in before ends
    Passwd { name: String },
    /// Stop an account signing in; its tokens and sessions stop working at once
    Disable { name: String },
    /// Let a disabled account sign in again; its tokens work again
    Enable { name: String },
    /// Delete an account and its tokens (the ledger keeps what it recorded); asks first
    Remove {
        name: String,
        /// Do not ask (for scripts)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a bearer token for a user's scripts (shown once)
    New {
        name: String,
        /// What the token is for, to find it again in `token list` [default: "token N"]
        #[arg(long)]
        label: Option<String>,
        /// The last day it works (YYYY-MM-DD: until the end of that day, UTC; or an RFC 3339 moment)
        #[arg(long, conflicts_with = "expires_in")]
        expires: Option<String>,
        /// It works for this many days from now
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        expires_in: Option<u32>,
    },
    /// List the tokens (all users', or NAME's): label, short id, made, expiry, state
    List { name: Option<String> },
    /// Delete one of NAME's tokens, named by its label or short id
    Revoke { name: String, label_or_id: String },
}

#[derive(Debug, Subcommand)]
pub enum AgencyCommand {
    /// Register an agency: `agency add gmp --name "Greater Manchester Police" --alias GMP`
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// Another name plans use for it (repeatable)
        #[arg(long = "alias")]
        aliases: Vec<String>,
        #[command(flatten)]
        effective: Effective,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChallengeCommand {
    /// One challenge's whole life: raised, responses, escalations, closures, reopenings
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Raise a challenge to a partner agency (prints its id)
    Raise {
        #[arg(long)]
        to: String,
        #[arg(long)]
        text: String,
        /// An action the challenge is about, as PLAN/REF (repeatable)
        #[arg(long)]
        about: Vec<String>,
        /// Response due by (YYYY-MM-DD or DD/MM/YYYY, four-digit year)
        #[arg(long)]
        due: Option<String>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Record the agency's response
    Respond {
        id: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        evidence: Vec<PathBuf>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Escalate a challenge
    Escalate {
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        effective: Effective,
    },
    /// Close a challenge with its outcome and impact
    Close {
        id: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        impact: Option<String>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Reopen a closed challenge
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
        /// A new date the response is due by (YYYY-MM-DD or DD/MM/YYYY, four-digit year)
        #[arg(long)]
        due: Option<String>,
        #[command(flatten)]
        effective: Effective,
    },
    /// Set or move the date a challenge's response is due by
    Extend {
        id: String,
        /// The new due date (YYYY-MM-DD or DD/MM/YYYY, four-digit year)
        #[arg(long)]
        due: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        effective: Effective,
    },
}

/// Where a witness keeps its key, the logs it witnesses and its record: a folder
/// made by `witness init` (`--dir`), or each file named.
#[derive(Debug, Args)]
pub struct WitnessFiles {
    /// The witness's folder, made by `witness init` (its key, logs and record)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The witness's record of each log's latest co-signed checkpoint (JSON; made on
    /// first use) [default: DIR/state.json]
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The witness's signing key [default: DIR/witness.key]
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A log's verifier key (vkey text or a file of vkey lines); repeatable, added to
    /// those in DIR/logs.vkeys
    #[arg(long = "log")]
    pub logs: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// The witness: make its folder (its own cosignature/v1 key, the logs it
    /// witnesses, its record) and print its verifier key, for the logs to add
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name, e.g. inspectorate.example/witness
        #[arg(long)]
        name: String,
        /// A log's verifier key it will witness (vkey text or a file of vkey lines);
        /// repeatable
        #[arg(long = "log")]
        logs: Vec<String>,
    },
    /// The witness: read an add-checkpoint request (standard input, or --in), co-sign
    /// the checkpoint if it is consistent with the last one co-signed for its log,
    /// print the cosignature line and remember the checkpoint in its record
    AddCheckpoint {
        #[command(flatten)]
        files: WitnessFiles,
        /// Read the request from this file instead of standard input
        #[arg(long = "in")]
        input: Option<PathBuf>,
    },
    /// The witness over HTTP (C2SP tlog-witness): `POST /add-checkpoint` answered as
    /// add-checkpoint does, until Ctrl-C
    Serve {
        #[arg(long, default_value = "127.0.0.1:8090")]
        addr: std::net::SocketAddr,
        #[command(flatten)]
        files: WitnessFiles,
    },
    /// The log: ask this witness to co-sign each new checkpoint from now on (URL: its
    /// submission prefix; VKEY: its cosignature/v1 key, from `witness init`)
    Add { url: String, vkey: String },
    /// The log: the witnesses it asks, with the size each co-signed last
    List,
    /// The log: stop asking a witness (by URL or key name); its cosignatures stay
    Remove { witness: String },
    /// The log: ask every witness now to co-sign the latest checkpoint (as
    /// `checkpoint` does after signing one)
    Ask,
    /// The log: print the add-checkpoint request for the latest checkpoint, with the
    /// consistency proof from the size the witness co-signed last
    Request {
        /// The size of the checkpoint the witness co-signed last (0 the first time)
        #[arg(long)]
        old: u64,
    },
    /// The log: keep a witness's cosignature line (in FILE, after the checkpoint it
    /// signs, as `add-checkpoint` answered) on the checkpoint the ledger holds
    Attach {
        file: PathBuf,
        /// The witness's cosigner key (vkey, type 0x04)
        #[arg(long)]
        witness: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new Ed25519 signing key and write it to FILE (owner-only)
    New {
        /// The key's name, e.g. chair.example.org/jones
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a verifier key (vkey) [default: the ledger's]
    Show {
        #[arg(long)]
        key: Option<PathBuf>,
        /// The key as a C2SP cosigner (vkey type 0x04), for co-signatures made with
        /// `checkpoint cosign --cosignature-v1`: register this one for the chair
        #[arg(long, requires = "key")]
        cosigner: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Add your signature to a checkpoint this ledger made
    Cosign {
        /// The signed checkpoint file
        file: PathBuf,
        /// Your signing key (e.g. the chair's)
        #[arg(long)]
        key: PathBuf,
        /// Write the co-signed checkpoint here [default: print it]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign the file alone, without opening a ledger (while the service runs);
        /// then paste the result on the service's Verification page
        #[arg(long)]
        offline: bool,
        /// Co-sign as a C2SP tlog-cosignature (cosignature/v1), which carries the time
        /// it was made and is what witnesses and transparency-log verifiers count
        #[arg(long)]
        cosignature_v1: bool,
    },
}
