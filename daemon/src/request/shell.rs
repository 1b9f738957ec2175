//! The file a shell command prints. Agents without a file-reading tool (Codex CLI, mini-SWE-agent,
//! a bash tool anywhere) read files with `cat`, `sed -n '40,180p'`, `head`, `tail` or `nl`; the
//! file's path then says what its output is (its language) and ties it to later edits of that
//! file, as a reader tool's `path` argument does.

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

/// The one file `command` prints, when it is a reader given one file: `cat a.py`, `sed -n
/// '40,180p' a.py`, `head -n 50 a.py`, `nl -ba a.py`, optionally after `cd DIR &&` (a relative
/// path is then joined to DIR).
pub fn file_read(command: &str) -> Option<String> {
    let (dir, command) = match command.split_once("&&") {
        Some((cd, rest)) => {
            let cd = words(cd)?;
            (cd.len() == 2 && cd[0] == "cd").then_some(())?;
            (Some(cd[1].clone()), rest)
        }
        None => (None, command),
    };
    let words = words(command)?;
    let (program, takes_value) = READERS.iter().find(|(name, _)| words.first().is_some_and(|w| w == name))?;
    let mut files = Vec::new();
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        if takes_value.contains(&word.as_str()) {
            rest.next();
        } else if !word.starts_with('-') || word == "-" {
            files.push(word);
        }
    }
    // sed's first operand is its script: only `Np` and `N,Mp` print a file's lines as they are.
    if *program == "sed" {
        let script = files.first().filter(|s| s.strip_suffix('p').is_some_and(|r| r.split(',').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))))?;
        (words.get(1).map(String::as_str) == Some("-n") && files.len() == 2 && !script.is_empty()).then_some(())?;
        files.remove(0);
    }
    match files.as_slice() {
        [file] if file.as_str() != "-" => Some(match dir {
            Some(dir) if !file.starts_with('/') => format!("{}/{file}", dir.trim_end_matches('/')),
            _ => file.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::file_read;

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
    fn pipes_several_files_and_other_programs_name_none() {
        for command in ["cat a.py | grep x", "cat a.py b.py", "sed 's/a/b/' a.py", "sed -n '/def/p' a.py", "grep -n x a.py", "cat $(ls)", "cat a.py > b.py", "cd /w && cat a.py && ls", "cat"] {
            assert_eq!(file_read(command), None, "{command}");
        }
    }
}
