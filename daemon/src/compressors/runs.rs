//! Which runs of droppable lines go, shared by numbered views and Markdown documents.

/// `omit` with its runs shorter than `min` kept: their words are the ones an agent quotes back,
/// and a short gap saves little.
pub fn long_runs(mut omit: Vec<bool>, min: usize) -> Vec<bool> {
    let mut at = 0;
    while at < omit.len() {
        let run = omit[at..].iter().take_while(|o| **o == omit[at]).count();
        if omit[at] && run < min {
            omit[at..at + run].iter_mut().for_each(|o| *o = false);
        }
        at += run;
    }
    omit
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_shorter_than_the_minimum_stay() {
        let omit = [true, true, false, true, true, true, false, true].to_vec();
        assert_eq!(super::long_runs(omit, 3), [false, false, false, true, true, true, false, false]);
    }
}
