//! The `dhcpfo` command line: parses flags and hands each subcommand to the library.

use std::process::ExitCode;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dhcpfo::{decode, exit};

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
        scenario: PathBuf,
        /// The run seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Read a capture (classic pcap) and print every DHCP and failover message in it.
    ///
    /// DHCP is read from UDP 67/68; failover from TCP on the --port ports (default 647 and
    /// 847), each direction reassembled and framed. The dialect (ISC or Microsoft) is detected
    /// per message. Exit 0 when every message decoded (and with --verify re-encoded
    /// identically), 1 when any did not, 2 when the file is not a pcap.
    Decode {
        /// The capture file.
        file: PathBuf,
        /// A TCP port carrying failover (repeatable; default 647 and 847).
        #[arg(long = "port", value_name = "PORT")]
        ports: Vec<u16>,
        /// Print one JSON object per message instead of a text line.
        #[arg(long)]
        json: bool,
        /// Re-encode every decoded message and report any byte difference.
        #[arg(long)]
        verify: bool,
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
        Command::Decode {
            file,
            ports,
            json,
            verify,
        } => {
            let args = decode::DecodeArgs {
                ports: if ports.is_empty() {
                    decode::DEFAULT_PORTS.to_vec()
                } else {
                    ports
                },
                json,
                verify,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let code = decode::run(&file, &args, &mut out, &mut std::io::stderr());
            // A closed pipe (`| head`) is not a failure of the decode.
            let _ = out.flush();
            ExitCode::from(code)
        }
    }
}
