//! Runs of droppable lines: which go, shared by numbered views and Markdown documents, and
//! where each starts and ends.

use std::ops::Range;

/// The runs of equal flags in `flags`, in order, each with its flag: what a compressor writes
/// as kept lines or as one `[… N lines (a–b) …]`.
pub fn runs(flags: &[bool]) -> impl Iterator<Item = (bool, Range<usize>)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let flag = *flags.get(at)?;
        let start = at;
        at += flags[at..].iter().take_while(|f| **f == flag).count();
        Some((flag, start..at))
    })
}

/// `omit` with its runs shorter than `min` kept: their words are the ones an agent quotes back,
/// and a short gap saves little.
pub fn long_runs(mut omit: Vec<bool>, min: usize) -> Vec<bool> {
    let short: Vec<Range<usize>> = runs(&omit).filter(|(o, run)| *o && run.len() < min).map(|(_, run)| run).collect();
    for run in short {
        omit[run].fill(false);
    }
    omit
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_shorter_than_the_minimum_stay() {
        let omit = [true, true, false, true, true, true, false, true].to_vec();
        assert_eq!(super::long_runs(omit.clone(), 3), [false, false, false, true, true, true, false, false]);
        assert_eq!(super::runs(&omit).collect::<Vec<_>>(), [(true, 0..2), (false, 2..3), (true, 3..6), (false, 6..7), (true, 7..8)]);
    }
}
