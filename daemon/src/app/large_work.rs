//! Admission of large compressions (requests over [`LARGE_REQUEST`] bytes). Their memory is a
//! multiple of their size, so only one per core runs at once; the rest wait in line. A waiting
//! request still holds its bytes, so the line is bounded too: past [`WAITING_PER_SLOT`] waiting
//! per slot, a request is answered `busy` at once and its client sends the messages uncompressed.
//! Small requests never take part: they neither wait behind large ones nor count against them.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Requests above this many bytes are large.
pub const LARGE_REQUEST: usize = 1 << 20;

/// Large requests that may wait per running slot before more are turned away.
pub const WAITING_PER_SLOT: usize = 4;

/// The slots and the line of large compressions.
pub struct LargeWork {
    slots: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// A large request turned away: this many were already waiting.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy(pub usize);

impl LargeWork {
    /// `slots` large compressions at once (one per core, at least one).
    pub fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        LargeWork { slots: Semaphore::new(slots), waiting: AtomicUsize::new(0), max_waiting: slots * WAITING_PER_SLOT }
    }

    /// A slot, once one is free; [`Busy`] at once when the line is full.
    pub async fn admit(&self) -> Result<SemaphorePermit<'_>, Busy> {
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        if ahead >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy(ahead));
        }
        let permit = self.slots.acquire().await.expect("the semaphore is never closed");
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        Ok(permit)
    }

    /// Large requests admitted but not yet running.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_full_line_turns_requests_away_and_the_waiting_ones_all_run() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let work = Arc::new(LargeWork::new(1));
            let running = work.admit().await.unwrap();
            let waiters: Vec<_> = (0..WAITING_PER_SLOT)
                .map(|_| {
                    let work = work.clone();
                    tokio::spawn(async move { work.admit().await.map(drop).is_ok() })
                })
                .collect();
            while work.waiting() < WAITING_PER_SLOT {
                tokio::task::yield_now().await;
            }
            assert_eq!(work.admit().await.map(drop), Err(Busy(WAITING_PER_SLOT)));
            drop(running);
            for waiter in waiters {
                assert!(waiter.await.unwrap(), "every waiting request runs in turn");
            }
            assert_eq!(work.waiting(), 0);
            assert!(work.admit().await.is_ok(), "an empty line admits again");
        });
    }
}
