/**
 * Whether the daemon's socket is this user's, checked before connecting.
 *
 * Without `XDG_RUNTIME_DIR` the socket lives in `/tmp/headroom-$UID`, a name any user of the
 * machine can take first and listen behind. client-py asks the kernel who listens
 * (`SO_PEERCRED`) right after connecting; Node's `net` cannot, so this client checks the files
 * instead, before connecting: the socket's directory must belong to this user and be writable
 * by no one else (so no one else can put or replace a socket in it), and the socket file must
 * belong to this user.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Why the socket at `path` must not be used, or `null` when it is this user's (always `null`
 * on platforms without POSIX uids). Rejects with the file system's error when the socket or
 * its directory cannot be read (e.g. `ENOENT`: no daemon).
 */
export async function untrustedReason(path: string): Promise<string | null> {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  const dir = await stat(dirname(path));
  if (dir.uid !== uid) return `its directory belongs to uid ${dir.uid}, not to this user (uid ${uid})`;
  if (dir.mode & 0o022) return `its directory is writable by other users (mode ${(dir.mode & 0o7777).toString(8)})`;
  const socket = await stat(path);
  if (socket.uid !== uid) return `it belongs to uid ${socket.uid}, not to this user (uid ${uid})`;
  return null;
}
