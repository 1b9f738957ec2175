//! The socket front: binds the daemon's Unix socket (or refuses to, when another daemon is
//! live), accepts connections from the daemon's own uid and runs one task per connection, each
//! answering protocol requests through the application core (`crate::app`).
//!
//! - [`connection`]: one connection's read loop, pipelining and replies.

pub mod connection;

use crate::app::{App, StartError};
use interprocess::local_socket::tokio::{prelude::*, Listener};
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;


/// Binds the socket at `path`: the directory is created 0700, the socket is 0600. A socket file
/// left by a dead daemon is replaced (callers check first that no live daemon answers there);
/// anything else at that path is refused, never deleted. A directory another user owns, or that
/// others may write to, is refused: whoever controls it could put their own socket there.
pub fn bind(path: &Path) -> Result<Listener, StartError> {
    let fail = |what: &str, e: io::Error| StartError(format!("{what} {}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the directory of", e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| fail("cannot restrict the directory of", e))?;
    }
    check_socket_dir(dir)?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(|e| fail("cannot remove the stale socket", e))?
        }
        Ok(_) => {
            return Err(StartError(format!(
                "{} exists and is not a socket; headroomd will not replace it (pass another --socket)",
                path.display()
            )))
        }
        Err(_) => {}
    }
    let name = path.to_fs_name::<GenericFilePath>().map_err(|e| fail("bad socket path", e))?;
    ListenerOptions::new().name(name).mode(0o600).create_tokio().map_err(|e| fail("cannot listen on", e))
}

/// Refuses a socket directory owned by another user (root's shared directories aside) or
/// writable by group or others without the sticky bit: such a directory lets someone else
/// replace the socket and read every conversation.
fn check_socket_dir(dir: &Path) -> Result<(), StartError> {
    let meta = std::fs::metadata(dir).map_err(|e| StartError(format!("cannot inspect {}: {e}", dir.display())))?;
    let uid = nix::unistd::getuid().as_raw();
    if meta.uid() != uid && meta.uid() != 0 {
        return Err(StartError(format!(
            "the socket directory {} belongs to uid {}, not to you (uid {uid}); remove it or set XDG_RUNTIME_DIR",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
        return Err(StartError(format!(
            "the socket directory {} is writable by other users (mode {:o}); make it 0700",
            dir.display(),
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// An error when a daemon already answers on `path` (checked before the stores are opened, so
/// a second daemon never touches them).
pub fn refuse_live_daemon(path: &Path) -> Result<(), StartError> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(StartError(format!("another headroomd is already serving {}; stop it first or pass --socket", path.display())));
    }
    Ok(())
}


/// Accepts connections until `shutdown`, each served on its own task in `connections` (which
/// the caller drains).
pub async fn serve(listener: Listener, app: Arc<App>, shutdown: CancellationToken, connections: TaskTracker) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    connections.spawn(connection::serve(stream, app.clone(), shutdown.clone()));
                }
                Err(e) => {
                    log::error!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}
