//! `headroomd`: the per-user daemon.

use clap::Parser;
use headroom_daemon::config::Settings;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The Headroom daemon: serves compression over a Unix socket.
#[derive(Parser)]
#[command(name = "headroomd", version)]
struct Args {
    /// Socket path (default: $HEADROOM_SOCKET, else $XDG_RUNTIME_DIR/headroom/headroomd.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// State directory for the stores (default: $XDG_STATE_HOME/headroom).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Largest request frame in bytes.
    #[arg(long, default_value_t = headroom_protocol::DEFAULT_MAX_FRAME)]
    max_frame: usize,
    /// Days an unused original stays retrievable.
    #[arg(long, default_value_t = 7)]
    ccr_expiry_days: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut settings = Settings::default();
    if let Some(socket) = args.socket {
        settings.socket = socket;
    }
    if let Some(dir) = args.state_dir {
        settings.state_dir = dir;
    }
    settings.max_frame = args.max_frame;
    settings.ccr_idle_expiry = Duration::from_secs(args.ccr_expiry_days * 24 * 60 * 60);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("headroomd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(headroom_daemon::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("headroomd: {e}");
            ExitCode::FAILURE
        }
    }
}
