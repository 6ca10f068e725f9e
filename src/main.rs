//! `assure`: the command line of the Assure ledger. `main` stays thin: clap parses,
//! `run` dispatches, and errors become a message on stderr and an exit code.

use assure::{cli, commands, exit};
use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(error) = commands::run(cli) {
        let code = exit::code_for(&error);
        if !error.is::<exit::VerificationFailed>() {
            eprintln!("error: {error:#}");
        }
        std::process::exit(code);
    }
}
