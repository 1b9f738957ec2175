//! The file a shell command prints or searches. Agents without a file-reading tool (Codex CLI,
//! mini-SWE-agent, a bash tool anywhere) read files with `cat`, `sed -n '40,180p'`, `head`,
//! `tail` or `nl`; the file's path then says what its output is (its language) and ties it to
//! later edits of that file, as a reader tool's `path` argument does. And grep over one file
//! prints its hits without the path, which the command then gives.

/// Programs that print a file they are given, and the options of theirs that take a value.
const READERS: [(&str, &[&str]); 5] = [("cat", &[]), ("head", &["-n", "-c"]), ("tail", &["-n", "-c"]), ("nl", &["-b", "-w", "-s"]), ("sed", &["-e"])];

/// `command`'s words, quotes and backslash escapes resolved; `None` when it holds more than
/// one command or redirects (`|`, `;`, `&`, `<`, `>`, `$(…)`, backticks outside quotes).
fn words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let quoted: String = chars.by_ref().take_while(|&q| q != '\'').collect();
                word.get_or_insert_with(String::new).push_str(&quoted);
            }
            '"' => {
                let mut quoted = String::new();
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => quoted.extend(chars.next()),
                        '$' | '`' => return None,
                        _ => quoted.push(q),
                    }
                }
                word.get_or_insert_with(String::new).push_str(&quoted);
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '|' | ';' | '&' | '<' | '>' | '$' | '`' => return None,
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

/// Searchers, and the options of theirs that take a value.
const SEARCHERS: [(&str, &[&str]); 3] = [
    ("grep", &["-e", "-f", "-m", "-A", "-B", "-C", "--max-count", "--include", "--exclude"]),
    ("egrep", &["-e", "-f", "-m", "-A", "-B", "-C", "--max-count"]),
    ("rg", &["-e", "-f", "-m", "-A", "-B", "-C", "-g", "-t", "-T", "--glob", "--type", "--max-count"]),
];

/// One program's words after an optional `cd DIR &&`, with what only trims or hides its output
/// (`2>/dev/null`, a final `| head -n 30`, `| tail` or `| sed -n '120,220p'`) taken off:
/// `(DIR, words)`.
fn one_program(command: &str) -> Option<(Option<String>, Vec<String>)> {
    let (dir, command) = match command.split_once("&&") {
        Some((cd, rest)) => {
            let cd = words(cd)?;
            (cd.len() == 2 && cd[0] == "cd").then_some(())?;
            (Some(cd[1].clone()), rest)
        }
        None => (None, command),
    };
    let command = match command.rsplit_once('|') {
        Some((program, trim)) if trims(&words(trim)?) => program,
        _ => command,
    };
    Some((dir, words(&command.replace("2>/dev/null", ""))?))
}

/// Whether a pipe into `words` only keeps some of the lines: `head`, `tail`, `sed -n '120,220p'`.
fn trims(words: &[String]) -> bool {
    match words.first().map(String::as_str) {
        Some("head" | "tail") => true,
        Some("sed") => words.len() == 3 && words[1] == "-n" && line_range(&words[2]),
        _ => false,
    }
}

/// Whether a sed script prints lines as they are: `40p`, `40,180p`.
fn line_range(script: &str) -> bool {
    script.strip_suffix('p').is_some_and(|range| range.split(',').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

/// The operands of `words` (a program's arguments), its options and their values left out.
fn operands<'w>(words: &'w [String], takes_value: &[&str]) -> Vec<&'w String> {
    let mut operands = Vec::new();
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        if takes_value.contains(&word.as_str()) {
            rest.next();
        } else if !word.starts_with('-') || word == "-" {
            operands.push(word);
        }
    }
    operands
}

/// `file` as a path: joined to `dir` when relative.
fn located(dir: Option<String>, file: &str) -> String {
    match dir {
        Some(dir) if !file.starts_with('/') => format!("{}/{file}", dir.trim_end_matches('/')),
        _ => file.to_string(),
    }
}

/// The one file `command` prints, when it is a reader given one file: `cat a.py`, `sed -n
/// '40,180p' a.py`, `head -n 50 a.py`, `nl -ba a.py`, optionally after `cd DIR &&` (a relative
/// path is then joined to DIR).
pub fn file_read(command: &str) -> Option<String> {
    let (dir, words) = one_program(command)?;
    let (program, takes_value) = READERS.iter().find(|(name, _)| words.first().is_some_and(|w| w == name))?;
    let mut files = operands(&words[1..], takes_value);
    // sed's first operand is its script: only `Np` and `N,Mp` print a file's lines as they are.
    if *program == "sed" {
        let prints_lines = words.get(1).map(String::as_str) == Some("-n") && files.len() == 2 && line_range(files[0]);
        prints_lines.then_some(())?;
        files.remove(0);
    }
    match files.as_slice() {
        [file] if file.as_str() != "-" => Some(located(dir, file)),
        _ => None,
    }
}

/// The one file `command` searches, when it is grep or ripgrep given a pattern and one file
/// (`grep -n "def " a.py`, `rg -n -i "demo|action" notes.vtt`): its hits then come as `NUM:text`
/// with no path, and the path is this.
pub fn file_searched(command: &str) -> Option<String> {
    let (dir, words) = one_program(command)?;
    let (_, takes_value) = SEARCHERS.iter().find(|(name, _)| words.first().is_some_and(|w| w == name))?;
    let recursive = words.iter().any(|w| w == "-r" || w == "-R" || w == "--recursive" || w.starts_with('-') && !w.starts_with("--") && w.contains(['r', 'R']));
    let pattern_given = words.iter().any(|w| w == "-e" || w == "-f");
    let operands = operands(&words[1..], takes_value);
    match (operands.as_slice(), pattern_given, recursive) {
        ([_, file], false, false) | ([file], true, false) => Some(located(dir, file)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{file_read, file_searched};

    #[test]
    fn readers_of_one_file_name_it() {
        assert_eq!(file_read("cat /w/a.py").as_deref(), Some("/w/a.py"));
        assert_eq!(file_read("sed -n '40,180p' src/app.tsx").as_deref(), Some("src/app.tsx"));
        assert_eq!(file_read(r"sed -n '1,220p' /Users/u/Downloads/Demo\ Prep.vtt").as_deref(), Some("/Users/u/Downloads/Demo Prep.vtt"));
        assert_eq!(file_read("head -n 50 \"my file.md\"").as_deref(), Some("my file.md"));
        assert_eq!(file_read("nl -ba lib.rs").as_deref(), Some("lib.rs"));
        assert_eq!(file_read("cd /workspace/repo && cat setup.py").as_deref(), Some("/workspace/repo/setup.py"));
    }

    #[test]
    fn a_search_of_one_file_names_it() {
        assert_eq!(file_searched("grep -n \"def \" a.py").as_deref(), Some("a.py"));
        assert_eq!(file_searched(r"rg -n -i 'demo|action' /d/Demo\ Prep.vtt").as_deref(), Some("/d/Demo Prep.vtt"));
        assert_eq!(file_searched("grep -n -A 2 -e foo src/x.rs 2>/dev/null | head -30").as_deref(), Some("src/x.rs"));
        assert_eq!(file_searched("cd /w && grep -n x lib.py").as_deref(), Some("/w/lib.py"));
        for command in ["grep -rn x src", "grep -n x a.py b.py", "rg x", "grep -n x a.py | sort", "cat a.py"] {
            assert_eq!(file_searched(command), None, "{command}");
        }
        assert_eq!(file_read("cat a.py | head -n 40").as_deref(), Some("a.py"));
        assert_eq!(file_read("nl -ba src/lib.rs | sed -n '120,220p'").as_deref(), Some("src/lib.rs"));
        assert_eq!(file_read("nl -ba src/lib.rs | sed 's/a/b/'"), None);
    }

    #[test]
    fn pipes_several_files_and_other_programs_name_none() {
        for command in ["cat a.py | grep x", "cat a.py b.py", "sed 's/a/b/' a.py", "sed -n '/def/p' a.py", "grep -n x a.py", "cat $(ls)", "cat a.py > b.py", "cd /w && cat a.py && ls", "cat"] {
            assert_eq!(file_read(command), None, "{command}");
        }
    }
}
