//! What an agent's harness wraps a command's output in: a preamble before it (Codex CLI's
//! `Chunk ID: …`, `Wall time: …`, `Output:` lines) and notes that it cut the output short. The
//! preamble is no part of the program's output, so the output is routed without it; a note of
//! cut output says the agent was sent to search for the rest.

/// Lines a preamble has at most, its `Output:` line included.
const MAX_PREAMBLE_LINES: usize = 8;

/// The length in bytes of the harness's preamble `text` opens with: `Key: value` lines (`Wall
/// time: 0.0958 seconds`, `Process exited with code 0`) up to a line `Output:`; 0 when there is
/// none.
pub fn preamble(text: &str) -> usize {
    let mut at = 0;
    for line in text.split_inclusive('\n').take(MAX_PREAMBLE_LINES) {
        at += line.len();
        let line = line.trim_end();
        if line == "Output:" {
            return at;
        }
        let stated = line.split_once(": ").is_some_and(|(key, _)| key.chars().all(|c| c.is_alphanumeric() || c == ' '));
        if !stated && !line.starts_with("Process exited with code") {
            return 0;
        }
    }
    0
}

/// Whether `line` is (or ends with) a harness's note that it cut the output short — OpenHands'
/// `<response clipped><NOTE>…` and `[... Observation truncated due to length ...]`, Claude
/// Code's `(Results are truncated. …)`, Codex's `…3644 tokens truncated…`. The agent was told
/// to search for what it did not see, so what it did see may be shortened harder.
pub fn cut_short(line: &str) -> bool {
    line.contains("<response clipped>") || line.contains("truncated")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_notes_of_cut_output_are_recognised() {
        assert!(cut_short("[... Observation truncated due to length ...]"));
        assert!(cut_short("    452\t        self.x<response clipped><NOTE>To save on context only part of this file has been shown to you.</NOTE>"));
        assert!(cut_short("(Results are truncated. Consider using a more specific path or pattern.)"));
        assert!(!cut_short("    12\treturn value"));
    }

    #[test]
    fn codex_s_preamble_is_found_and_output_of_its_own_is_not_one() {
        let output = "Chunk ID: 6797cf\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 2595\nOutput:\n// Copyright 2026\n";
        assert_eq!(&output[preamble(output)..], "// Copyright 2026\n");
        assert_eq!(preamble("Output:\nx"), "Output:\n".len());
        assert_eq!(preamble("Name: x\nval = f(a: int)\nOutput:\n"), 0, "a line of code ends it");
        assert_eq!(preamble("// Copyright\nOutput:\n"), 0);
        assert_eq!(preamble("Status: ok\nAll fine\n"), 0);
    }
}
