//! The daemon's log: one line at a time on stderr. Writing can never fail a caller: a closed or
//! broken stderr (a `| head` that exited, a closed journal pipe) drops the line instead of
//! panicking, so no log line can stop shutdown or kill a task.

use std::io::Write;

/// Writes one line to stderr, ignoring every error.
pub fn line(args: std::fmt::Arguments) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// `log_line!("headroomd: …", …)`: [`line`] with `format!` arguments.
#[macro_export]
macro_rules! log_line {
    ($($arg:tt)*) => { $crate::log::line(format_args!($($arg)*)) };
}
