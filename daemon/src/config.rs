//! Where the daemon listens and keeps its state, and its limits. Defaults follow the XDG base
//! directories; `headroomd` flags override them.

use std::path::PathBuf;
use std::time::Duration;

/// The daemon's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Unix socket path.
    pub socket: PathBuf,
    /// Directory of the LMDB environment.
    pub state_dir: PathBuf,
    /// Largest accepted frame body in bytes.
    pub max_frame: usize,
    /// CCR originals unused for this long expire.
    pub ccr_idle_expiry: Duration,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            socket: default_socket(),
            state_dir: default_state_dir(),
            max_frame: headroom_protocol::DEFAULT_MAX_FRAME,
            ccr_idle_expiry: Duration::from_secs(7 * 24 * 60 * 60),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn home() -> PathBuf {
    env_dir("HOME").unwrap_or_else(|| PathBuf::from("/"))
}

/// `$HEADROOM_SOCKET`, else `$XDG_RUNTIME_DIR/headroom/headroomd.sock`, else
/// `/tmp/headroom-$UID/headroomd.sock` — the same rule the clients use.
pub fn default_socket() -> PathBuf {
    if let Some(path) = env_dir("HEADROOM_SOCKET") {
        return path;
    }
    let dir = match env_dir("XDG_RUNTIME_DIR") {
        Some(runtime) => runtime.join("headroom"),
        None => PathBuf::from(format!("/tmp/headroom-{}", nix::unistd::getuid())),
    };
    dir.join("headroomd.sock")
}

/// `$XDG_STATE_HOME/headroom`, else `~/.local/state/headroom`.
pub fn default_state_dir() -> PathBuf {
    env_dir("XDG_STATE_HOME").unwrap_or_else(|| home().join(".local/state")).join("headroom")
}
