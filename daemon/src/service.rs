//! `headroom service install|uninstall|status`: the systemd user units that start `headroomd`
//! on the first connection to its socket. With the HTTP front on (`http = true`), the service may
//! also use IPv4 and IPv6 (the front's 127.0.0.1 port and its upstream connections) and starts
//! at login, so the front answers before anything has touched the socket; otherwise it is
//! confined to Unix sockets and waits for its first client.

use crate::config::Settings;
use std::path::{Path, PathBuf};
use std::process::Command;

const SOCKET_UNIT: &str = include_str!("../../systemd/headroomd.socket");
const SERVICE_UNIT: &str = include_str!("../../systemd/headroomd.service");
/// Where the service unit names the daemon binary.
const BINARY_PLACEHOLDER: &str = "@HEADROOMD@";
/// Where the service unit lists the address families the daemon may use.
const FAMILIES_PLACEHOLDER: &str = "@FAMILIES@";

/// `$XDG_CONFIG_HOME/systemd/user`, where systemd looks for a user's units.
pub fn unit_dir() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".config"));
    config.join("systemd/user")
}

/// The `headroomd` installed beside the running `headroom`.
pub fn daemon_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let daemon = exe.with_file_name("headroomd");
    if daemon.is_file() { Ok(daemon) } else { Err(format!("{} does not exist; install headroomd beside headroom", daemon.display())) }
}

/// The service unit with the daemon's path filled in, allowing network sockets only when the
/// daemon needs them (`network`: the HTTP front, or a shared store reached over TCP).
pub fn service_unit(daemon: &Path, network: bool) -> String {
    let families = if network { "AF_UNIX AF_INET AF_INET6" } else { "AF_UNIX" };
    SERVICE_UNIT.replace(BINARY_PLACEHOLDER, &daemon.display().to_string()).replace(FAMILIES_PLACEHOLDER, families)
}

/// Whether a systemd user manager is reachable (not the case in most containers and CI).
pub fn user_manager_running() -> bool {
    Command::new("systemctl").args(["--user", "show-environment"]).output().is_ok_and(|o| o.status.success())
}

fn systemctl(args: &[&str]) -> Result<String, String> {
    let out = Command::new("systemctl").arg("--user").args(args).output().map_err(|e| format!("cannot run systemctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!("systemctl --user {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

const NO_MANAGER: &str = "systemd is not running for this user (no user manager: a container, CI, or a \
session without `loginctl enable-linger`). Without it, start the daemon in the background yourself:\n  \
nohup headroomd >/dev/null 2>&1 &";

/// Writes both units (idempotent) and, when a user manager runs, enables and starts the socket,
/// and with the HTTP front on the service too. Run it again after turning the front on or off or
/// changing the store. Returns what was done, line by line.
pub fn install(dir: &Path, daemon: &Path, settings: &Settings) -> Result<String, String> {
    let http = settings.http.enabled;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut report = String::new();
    for (name, text) in [("headroomd.socket", SOCKET_UNIT.to_string()), ("headroomd.service", service_unit(daemon, settings.needs_network()))] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        report.push_str(&format!("wrote {}\n", path.display()));
    }
    if user_manager_running() {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", "--now", "headroomd.socket"])?;
        if http {
            systemctl(&["enable", "headroomd.service"])?;
            systemctl(&["restart", "headroomd.service"])?;
            report.push_str("enabled and started headroomd.socket and headroomd.service: the HTTP front is served from login on\n");
        } else {
            let _ = systemctl(&["disable", "headroomd.service"]);
            report.push_str("enabled and started headroomd.socket; headroomd starts on the first connection\n");
        }
    } else {
        report.push_str(NO_MANAGER);
        report.push('\n');
    }
    Ok(report)
}

/// Stops and disables the units when a user manager runs, then removes them.
pub fn uninstall(dir: &Path) -> Result<String, String> {
    let mut report = String::new();
    if user_manager_running() {
        // Units that are not enabled make disable fail; that is fine when uninstalling.
        let _ = systemctl(&["disable", "--now", "headroomd.socket", "headroomd.service"]);
        report.push_str("stopped and disabled headroomd.socket and headroomd.service\n");
    }
    for name in ["headroomd.socket", "headroomd.service"] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => report.push_str(&format!("removed {}\n", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.push_str(&format!("{} was not installed\n", path.display())),
            Err(e) => return Err(format!("cannot remove {}: {e}", path.display())),
        }
    }
    if user_manager_running() {
        systemctl(&["daemon-reload"])?;
    }
    Ok(report)
}

/// Which units are installed and, with a user manager, whether they are active.
pub fn status(dir: &Path) -> String {
    let mut report = String::new();
    for name in ["headroomd.socket", "headroomd.service"] {
        let path = dir.join(name);
        let installed = if path.exists() { format!("installed at {}", path.display()) } else { "not installed".to_string() };
        let state = if user_manager_running() {
            // `is-active` prints the state and fails for anything but "active".
            Command::new("systemctl")
                .args(["--user", "is-active", name])
                .output()
                .map_or_else(|e| format!("unknown ({e})"), |o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        } else {
            "unknown (no systemd user manager)".to_string()
        };
        report.push_str(&format!("{name}: {installed}; {state}\n"));
    }
    report
}
