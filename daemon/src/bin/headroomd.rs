//! `headroomd`: the per-user daemon.

use clap::{Arg, Command};
use headroom_daemon::config::SPECS;
use std::io::Write;
use std::process::ExitCode;

/// The command line: one flag per setting of `config::SPECS` (a flag overrides the environment
/// variable and the config.toml key of the same name; `headroom config show` shows the result).
fn command() -> Command {
    let about = "The Headroom daemon: serves compression over a Unix socket. Every flag overrides the \
                 environment variable and the config.toml key of the same name (`headroom config show`).";
    let mut command = Command::new("headroomd").version(env!("CARGO_PKG_VERSION")).about(about);
    for spec in SPECS {
        let mut arg = Arg::new(spec.key)
            .long(spec.flag().trim_start_matches('-').to_string())
            .help(format!("{} [env {}; default {}]", spec.doc, spec.env, spec.default));
        if spec.is_switch() {
            arg = arg.num_args(0..=1).default_missing_value("true").value_name("BOOL");
        }
        command = command.arg(arg);
    }
    command
}

fn main() -> ExitCode {
    // Started by a daemon to read its store before mapping it (see store::check).
    if let Some(dir) = std::env::var_os(headroom_daemon::store::check::CHECK_ENV) {
        return match headroom_daemon::store::check::walk(std::path::Path::new(&dir)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                // The parent reads this line as the reason its store cannot be used.
                let _ = writeln!(std::io::stderr(), "{e}");
                ExitCode::FAILURE
            }
        };
    }
    headroom_daemon::log::init("headroomd");
    let args = command().get_matches();
    let flags: Vec<(&'static str, String)> =
        SPECS.iter().filter_map(|spec| args.get_one::<String>(spec.key).map(|v| (spec.key, v.clone()))).collect();
    let settings = match headroom_daemon::config::load(&flags) {
        Ok(loaded) => loaded.settings,
        Err(e) => {
            log::error!("refusing to start: {e}");
            headroom_daemon::log::flush();
            return ExitCode::FAILURE;
        }
    };
    // A full disk or file-size limit must fail the write (and turn the stores volatile), not
    // kill the daemon with SIGXFSZ.
    // SAFETY: setting a signal to ignored installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGXFSZ, nix::sys::signal::SigHandler::SigIgn) };
    // glibc gives threads that allocate at the same time arenas of their own (up to 8 per core)
    // and keeps what they free: two arenas keep a burst of concurrent work from staying resident.
    // SAFETY: called before any other thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error!("cannot start the runtime: {e}");
            headroom_daemon::log::flush();
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(headroom_daemon::daemon::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    };
    headroom_daemon::log::flush();
    code
}
