//! `assure`: the command line of the Assure ledger. `main` stays thin: clap parses,
//! `run` dispatches, and errors become a message on stderr and an exit code.

use assure::{cli, commands, exit};
use clap::Parser;

fn main() {
    quiet_on_a_closed_pipe();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = cli::Cli::parse_from(&argv);
    // A read-only command while `assure serve` runs on the folder: the service answers.
    if let Some(code) = commands::beside::answered(&cli, &argv) {
        std::process::exit(code);
    }
    if let Err(error) = commands::run(cli) {
        let code = exit::code_for(&error);
        if !error.is::<exit::VerificationFailed>() {
            eprintln!("error: {error:#}");
        }
        if let Some(copy) = ledger::preserve::kept_copy() {
            eprintln!(
                "The store was not as its last clean close left it, so a copy of it as it was before this command opened it is kept in {}. Keep that copy: to go back to it, stop the service if it runs, move the folder's store/ aside and put the copy in its place; or restore the ledger from a backup or export (`assure restore`).",
                copy.display()
            );
        }
        std::process::exit(code);
    }
}

/// Output to a pipe the reader has closed (`assure history --json | head`) ends the
/// program quietly, as a Unix tool does. Rust ignores SIGPIPE, so printing to a
/// closed pipe panics; the panic is recognised here and becomes a quiet exit.
/// Everything that writes to the ledger has finished before it prints.
fn quiet_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
