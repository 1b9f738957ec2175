//! `headroom`: the command-line tool (see `headroom --help`).

fn main() -> std::process::ExitCode {
    headroom_daemon::cli::main()
}
