//! systemd integration: a listening socket passed by socket activation (`LISTEN_FDS`), and
//! state notifications (`READY=1`, `STATUS=…`, `STOPPING=1`) to `NOTIFY_SOCKET`. Without
//! systemd both are no-ops and the daemon binds its own socket.

use interprocess::local_socket::tokio::Listener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_PASSED_FD: i32 = 3;

/// The listening socket systemd passed to this process, if any. The variables are removed so
/// child processes do not take them for their own.
pub fn inherited_listener() -> std::io::Result<Option<Listener>> {
    let ours = std::env::var("LISTEN_PID").ok().and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id());
    let count = std::env::var("LISTEN_FDS").ok().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        // SAFETY: called at start, before any other thread reads the environment.
        unsafe { std::env::remove_var(name) };
    }
    if !ours || count == 0 {
        return Ok(None);
    }
    // SAFETY: systemd guarantees fd 3 is an open socket handed to this process.
    let fd = unsafe { OwnedFd::from_raw_fd(FIRST_PASSED_FD) };
    let std_listener = UnixListener::from(fd);
    std_listener.set_nonblocking(true)?;
    let uds = interprocess::os::unix::uds_local_socket::tokio::Listener::try_from(OwnedFd::from(std_listener))?;
    Ok(Some(Listener::from(uds)))
}

/// Sends `state` (e.g. `READY=1`) to the service manager; silent when there is none.
pub fn notify(state: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let Ok(socket) = UnixDatagram::unbound() else { return };
    let bytes = target.as_encoded_bytes();
    let address = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name)
    } else {
        SocketAddr::from_pathname(std::path::Path::new(&target))
    };
    if let Ok(address) = address {
        let _ = socket.send_to_addr(state.as_bytes(), &address);
    }
}
