//! The one logger of the daemon and the command-line tool, behind the `log` crate's macros
//! (`log::info!`, `log::warn!`, …). Lines go to stderr as `program: message` (`program: warning:
//! message` above info), filtered by `HEADROOM_LOG` (`error`, `warn`, `info` — the default —,
//! `debug`, `trace` or `off`).
//!
//! Logging can never fail or stall a caller: lines are handed to a writer thread through a
//! bounded queue and dropped when it is full (a journal that stopped reading), and a closed or
//! broken stderr drops them too. Before a process exits, [`flush`] waits a moment for the
//! queue to empty.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;
use std::time::Duration;

/// Lines waiting for the writer; past this, new lines are dropped.
const QUEUE: usize = 1024;

/// How long [`flush`] waits for the writer.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

enum Line {
    Text(String),
    /// Answered once every line before it is written.
    Flush(SyncSender<()>),
}

struct Logger {
    program: &'static str,
    queue: SyncSender<Line>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            Level::Info => "",
            Level::Debug => "debug: ",
            Level::Trace => "trace: ",
        };
        let _ = self.queue.try_send(Line::Text(format!("{}: {level}{}\n", self.program, record.args())));
    }

    fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.queue.try_send(Line::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_WAIT);
        }
    }
}

fn write_lines(lines: Receiver<Line>) {
    for line in lines {
        match line {
            Line::Text(text) => {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
            Line::Flush(done) => {
                let _ = done.try_send(());
            }
        }
    }
}

/// The level `HEADROOM_LOG` asks for; info when unset or unreadable.
fn level_from_env() -> LevelFilter {
    std::env::var("HEADROOM_LOG").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(LevelFilter::Info)
}

/// Installs the logger for this process, naming `program` on every line. Later calls change
/// nothing; without a call, log lines go nowhere (the library used from tests or benchmarks).
pub fn init(program: &'static str) {
    let logger = LOGGER.get_or_init(|| {
        let (queue, lines) = sync_channel(QUEUE);
        // Without a writer thread the receiver is gone and every line is dropped at once.
        let _ = std::thread::Builder::new().name("headroom-log".into()).spawn(move || write_lines(lines));
        Logger { program, queue }
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level_from_env());
    }
}

/// Waits (at most a second) until every line logged so far is written: call before exiting.
pub fn flush() {
    log::logger().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_lines_instead_of_blocking() {
        let (queue, lines) = sync_channel(1);
        let logger = Logger { program: "test", queue };
        log::set_max_level(LevelFilter::Info);
        // Nobody reads the queue: a blocking send would never return.
        for _ in 0..3 {
            logger.log(&Record::builder().level(Level::Info).args(format_args!("line")).build());
        }
        logger.flush();
        let queued: Vec<String> = lines.try_iter().filter_map(|l| if let Line::Text(t) = l { Some(t) } else { None }).collect();
        assert_eq!(queued, vec!["test: line\n".to_string()]);
    }
}
