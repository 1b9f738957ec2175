//! The transcript compressor: meeting recordings and subtitles as WebVTT or SRT, which agents
//! read to summarise a call or find who said what. Each cue costs an identifier (a sequence
//! number, or a UUID per utterance in Teams' exports), a line of start and end times to the
//! millisecond and a blank line — often more tokens than the words said.
//!
//! The words stay, every one, in order. Consecutive cues of one speaker become one turn on one
//! line behind its start time to the second and the speaker's name (`01:34:43 Peter Zador: …`),
//! a new line at least each minute so a passage can still be found by time. Cue identifiers,
//! end times, milliseconds and voice tags go; so does a line a rolling caption repeats from the
//! cue before it. Anything that is not a cue (the `WEBVTT` header, `NOTE` blocks, a tool's own
//! lines, a cue cut in half at the top of a view) stays where it was. One marker at the end says
//! what went and retrieves the transcript whole.

use super::{Compressor, Context};
use crate::request::marker::{self, counted};

/// Compresses WebVTT and SRT transcripts.
pub struct Transcript;

/// Cues a block needs before it is taken for a transcript.
const MIN_CUES: usize = 8;
/// A speaker's turn starts a new line after this many seconds, so times stay a guide.
const TURN_SECONDS: u32 = 60;

/// A cue timing line's start, in seconds and as written to the second (`01:34:43.703 -->
/// 01:34:49.096` gives 5683 and `01:34:43`; SRT writes `00:00:01,600`, WebVTT may leave out
/// the hours), when `line` is one.
fn cue_start(line: &str) -> Option<(u32, &str)> {
    let (start, rest) = line.trim().split_once(" --> ")?;
    let clock = |time: &str| -> Option<(u32, usize)> {
        let (whole, millis) = time.split_once(['.', ','])?;
        let parts: Vec<&str> = whole.split(':').collect();
        let valid = (2..=3).contains(&parts.len())
            && millis.len() == 3
            && millis.bytes().all(|b| b.is_ascii_digit())
            && parts.iter().all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        valid.then(|| (parts.iter().fold(0, |total, p| total * 60 + p.parse::<u32>().unwrap_or(0)), whole.len()))
    };
    let end = rest.split_whitespace().next()?;
    clock(end)?;
    let (seconds, whole) = clock(start)?;
    Some((seconds, &start[..whole]))
}

/// One cue: where it starts and what it says, voice tag parsed.
struct Cue<'a> {
    seconds: u32,
    time: &'a str,
    speaker: Option<&'a str>,
    lines: Vec<&'a str>,
}

/// Lines between blank lines: a cue, or anything else, kept as it is.
enum Block<'a> {
    Cue(Cue<'a>),
    Other(Vec<&'a str>),
}

/// The speaker a WebVTT voice tag opens the text with (`<v Peter Zador>`, `<v.loud Mary>`), and
/// the text without the tag and its closing `</v>`.
fn voice(text: &str) -> (Option<&str>, &str) {
    let text = text.strip_suffix("</v>").unwrap_or(text);
    match text.strip_prefix("<v").filter(|rest| rest.starts_with([' ', '.'])).and_then(|rest| rest.split_once('>')) {
        Some((tag, said)) => {
            let name = tag.split_once(' ').map_or("", |(_, name)| name.trim());
            ((!name.is_empty()).then_some(name), said)
        }
        None => (None, text),
    }
}

/// Whether `line` is a cue identifier: one word holding a digit (SRT's `12`, Teams'
/// `395eec3e-…/13129-1`), not a tool's `Output:`.
fn identifier(line: &str) -> bool {
    !line.trim().contains(char::is_whitespace) && line.bytes().any(|b| b.is_ascii_digit())
}

/// The blocks `lines` make: a cue from its timing line on (its identifier dropped), with the
/// lines before it, if any, kept as they are; or, without a timing line and text after it,
/// the lines as they are.
fn block(lines: Vec<&str>) -> Vec<Block<'_>> {
    let Some(at) = lines.iter().position(|l| cue_start(l).is_some()).filter(|at| lines.len() > at + 1) else {
        return vec![Block::Other(lines)];
    };
    let before = if at > 0 && identifier(lines[at - 1]) { at - 1 } else { at };
    let mut blocks = Vec::new();
    if before > 0 {
        blocks.push(Block::Other(lines[..before].to_vec()));
    }
    let (seconds, time) = cue_start(lines[at]).unwrap_or((0, ""));
    let mut said: Vec<&str> = lines[at + 1..].to_vec();
    let (speaker, first) = voice(said[0]);
    said[0] = first;
    for line in said.iter_mut().skip(1) {
        *line = line.strip_suffix("</v>").unwrap_or(line);
    }
    blocks.push(Block::Cue(Cue { seconds, time, speaker, lines: said }));
    blocks
}

/// `text`'s blocks, split at blank lines.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if !line.trim().is_empty() {
            current.push(line);
        } else if !current.is_empty() {
            blocks.extend(block(std::mem::take(&mut current)));
        }
    }
    if !current.is_empty() {
        blocks.extend(block(current));
    }
    blocks
}

/// Whether `text` is a transcript: at least [`MIN_CUES`] cues, and cues most of its blocks.
pub fn detect(text: &str) -> bool {
    let mut cues = 0usize;
    let mut blocks = 0usize;
    let mut in_block = false;
    let mut block_lines = 0usize;
    let mut timed = false;
    for line in text.lines().take(4000) {
        if line.trim().is_empty() {
            in_block = false;
            continue;
        }
        if !in_block {
            in_block = true;
            blocks += 1;
            block_lines = 0;
            timed = false;
        }
        block_lines += 1;
        if !timed && block_lines <= 2 && cue_start(line).is_some() {
            timed = true;
            cues += 1;
        }
    }
    cues >= MIN_CUES && cues * 3 >= blocks * 2
}

impl Compressor for Transcript {
    fn name(&self) -> &'static str {
        "transcript"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let blocks = blocks(text);
        let cues = blocks.iter().filter(|b| matches!(b, Block::Cue(_))).count();
        let mut out = String::with_capacity(text.len() / 2);
        let mut turns = 0usize;
        let mut repeats = 0usize;
        // The open turn's speaker and start, and the last line said, for rolling captions.
        let mut open: Option<(Option<&str>, u32)> = None;
        let mut last_said: Option<&str> = None;
        for block in &blocks {
            match block {
                Block::Other(lines) => {
                    if open.take().is_some() {
                        out.push('\n');
                    }
                    last_said = None;
                    for line in lines {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                Block::Cue(cue) => {
                    // A rolling caption repeats the line before: the same speaker, a line of
                    // some words (a second "Yeah." is said again, not repeated).
                    let rolling = |line: &&&str| Some(**line) == last_said && line.split_whitespace().nth(2).is_some();
                    let same_speaker = open.is_some_and(|(speaker, _)| speaker == cue.speaker);
                    let fresh = if same_speaker { cue.lines.iter().skip_while(rolling).count() } else { cue.lines.len() };
                    repeats += cue.lines.len() - fresh;
                    let said = &cue.lines[cue.lines.len() - fresh..];
                    last_said = cue.lines.last().copied();
                    if said.is_empty() {
                        continue;
                    }
                    let continues = open.is_some_and(|(speaker, from)| speaker == cue.speaker && cue.seconds < from + TURN_SECONDS);
                    if !continues {
                        if open.is_some() {
                            out.push('\n');
                        }
                        turns += 1;
                        open = Some((cue.speaker, cue.seconds));
                        out.push_str(cue.time);
                        if let Some(name) = cue.speaker {
                            out.push(' ');
                            out.push_str(name);
                            out.push(':');
                        }
                    }
                    for line in said {
                        out.push(' ');
                        out.push_str(line.trim());
                    }
                }
            }
        }
        if open.is_some() {
            out.push('\n');
        }
        let repeated = if repeats > 0 { format!(", and {} repeated from the cue before", counted(repeats, "caption line", "caption lines")) } else { String::new() };
        let note = format!(
            "{} as {}: cue identifiers, end times, milliseconds and voice tags dropped{repeated}",
            counted(cues, "transcript cue", "transcript cues"),
            counted(turns, "speaker turn", "speaker turns")
        );
        out.push_str(&marker::marker(ctx.key, &note));
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef01234567";

    fn compress(text: &str) -> String {
        Transcript.compress(text, &Context { key: KEY, ..Context::default() }).unwrap()
    }

    #[test]
    fn cue_timings_are_read_in_webvtt_and_srt() {
        assert_eq!(cue_start("01:34:43.703 --> 01:34:49.096"), Some((5683, "01:34:43")));
        assert_eq!(cue_start("00:00:01,600 --> 00:00:04,200"), Some((1, "00:00:01")));
        assert_eq!(cue_start("02:05.000 --> 02:07.500 align:start position:10%"), Some((125, "02:05")));
        assert_eq!(cue_start("12:30 --> 13:00"), None, "a range of clock times is not a cue");
        assert_eq!(cue_start("a --> b"), None);
    }

    #[test]
    fn srt_subtitles_keep_every_word_in_order_behind_their_start_times() {
        let subtitles: String = (0..12).map(|i| format!("{}\n00:00:{:02},000 --> 00:00:{:02},500\nline {i} of the film\n\n", i + 1, i * 3, i * 3 + 2)).collect();
        assert!(detect(&subtitles));
        let out = compress(&subtitles);
        // No speakers: one turn a minute, every line said in it.
        assert!(out.starts_with("00:00:00 line 0 of the film line 1 of the film"), "{out}");
        for i in 0..12 {
            assert!(out.contains(&format!("line {i} of the film")));
        }
        assert!(!out.contains("-->") && !out.contains(",500"));
        assert!(out.contains("12 transcript cues as 1 speaker turn:") && out.contains(KEY));
    }

    #[test]
    fn rolling_captions_say_each_line_once() {
        let cues = ["we are now", "we are now\ngoing to ship", "going to ship\non friday evening", "on friday evening\nif tests pass"];
        let mut vtt = String::from("WEBVTT\n\n");
        for round in 0..3 {
            for (i, text) in cues.iter().enumerate() {
                let s = round * 20 + i * 2;
                vtt.push_str(&format!("00:{s:02}.000 --> 00:{:02}.000\n{text}\n\n", s + 2));
            }
        }
        let out = compress(&vtt);
        assert!(out.starts_with("WEBVTT\n"), "{out}");
        assert_eq!(out.matches("going to ship").count(), 3, "{out}");
        assert!(out.contains("and 9 caption lines repeated"), "{out}");
    }

    #[test]
    fn speakers_become_turns_and_what_each_said_stays_even_when_said_twice() {
        let said = [("Ann Lee", "Shall we start?"), ("Ann Lee", "First the budget."), ("Bo", "Yeah."), ("Ann Lee", "Yeah."), ("Ann Lee", "Yeah.")];
        let vtt: String = said
            .iter()
            .enumerate()
            .map(|(i, (who, what))| format!("6b1d2f3a-0c4e/{i}-0\n00:01:{:02}.250 --> 00:01:{:02}.900\n<v {who}>{what}</v>\n\n", i * 4, i * 4 + 3))
            .collect();
        let out = compress(&format!("WEBVTT\n\n{vtt}"));
        let turns: Vec<&str> = out.lines().collect();
        assert_eq!(turns[..4], ["WEBVTT", "00:01:00 Ann Lee: Shall we start? First the budget.", "00:01:08 Bo: Yeah.", "00:01:12 Ann Lee: Yeah. Yeah."]);
        assert!(!out.contains("6b1d2f3a") && !out.contains("<v"));
        assert_eq!(voice("<v.loud Mary>Run!</v>"), (Some("Mary"), "Run!"));
        assert_eq!(voice("<video> is a tag"), (None, "<video> is a tag"));
    }

    #[test]
    fn a_text_with_a_few_time_ranges_is_not_a_transcript() {
        let notes = "Agenda\n\n10:00.000 --> 10:30.000 intro\n\nThen we talk.\n\nMore notes here.\n";
        assert!(!detect(notes));
    }
}
