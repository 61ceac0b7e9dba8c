//! The `dhcpfo` command line: parses flags and hands each subcommand to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dhcpfo::exit;

/// DHCPv4 failover: a real server and a deterministic simulation testbed.
///
/// Exit codes: 0 all checks held, 1 a property was violated (or a decode failed),
/// 2 bad usage or input, 3 a run did not finish within its bound.
#[derive(Parser)]
#[command(name = "dhcpfo", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seeded scenario (not yet: the testbed arrives with issue 5).
    Run {
        /// The scenario file (YAML).
        scenario: std::path::PathBuf,
        /// The run seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Run { scenario, seed } => {
            eprintln!(
                "dhcpfo run {} --seed {seed}: not yet — the simulator is not built; \
                 `dhcpfo decode` works today",
                scenario.display()
            );
            ExitCode::from(exit::BAD_INPUT)
        }
    }
}
