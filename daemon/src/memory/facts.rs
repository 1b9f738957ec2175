//! What a fact is and the rules about facts: who sees it, when it is valid, what it is about
//! (its key, for supersession) and when two facts say the same thing (dedup).

use crate::clock::date_of;
use crate::request::query::Query;
use bincode::{Decode, Encode};
use headroom_protocol::{MemoryFact, MemoryScope};

/// A fact as stored in LMDB (bincode `standard()`); the id is the key.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub struct Record {
    pub scope: MemoryScope,
    pub text: String,
    pub source: Option<String>,
    pub key: Option<String>,
    pub created_ms: u64,
    pub valid_from_ms: u64,
    pub valid_to_ms: Option<u64>,
    pub superseded_by: Option<u64>,
}

impl Record {
    /// Whether the fact was true at `t` (ms since the epoch).
    pub fn valid_at(&self, t: u64) -> bool {
        self.valid_from_ms <= t && self.valid_to_ms.is_none_or(|end| t < end)
    }

    /// Whether nothing has superseded it.
    pub fn current(&self) -> bool {
        self.valid_to_ms.is_none()
    }

    /// The fact as it goes on the wire.
    pub fn to_wire(&self, id: u64, score: f32) -> MemoryFact {
        MemoryFact {
            id: id_text(id),
            scope: self.scope.clone(),
            text: self.text.clone(),
            source: self.source.clone(),
            key: self.key.clone(),
            created_ms: self.created_ms,
            valid_from_ms: self.valid_from_ms,
            valid_to_ms: self.valid_to_ms,
            superseded_by: self.superseded_by.map(id_text),
            score,
        }
    }

    /// Encodes the record for the store.
    pub fn encode(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).expect("encoding into a Vec cannot fail")
    }

    /// Decodes a stored record; `None` for bytes that are not one.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        match bincode::decode_from_slice(bytes, bincode::config::standard()) {
            Ok((record, used)) if used == bytes.len() => Some(record),
            _ => None,
        }
    }
}

/// A fact id as the wire shows it: 16 lowercase hex digits.
pub fn id_text(id: u64) -> String {
    format!("{id:016x}")
}

/// Reads an id written by [`id_text`].
pub fn parse_id(text: &str) -> Option<u64> {
    (text.len() == 16).then(|| u64::from_str_radix(text, 16).ok()).flatten()
}

/// Why a scope is unusable, if it is.
pub fn scope_problem(scope: &MemoryScope) -> Option<&'static str> {
    if scope.user.trim().is_empty() {
        Some("a memory scope needs a user")
    } else if scope.agent.as_deref().is_some_and(|a| a.trim().is_empty()) {
        Some("a memory scope's agent, when given, must not be empty")
    } else if scope.session.as_deref().is_some_and(|s| s.trim().is_empty()) {
        Some("a memory scope's session, when given, must not be empty")
    } else {
        None
    }
}

/// Whether a request in scope `asking` sees a fact of scope `fact`: its own facts, its agent's
/// and its user's.
pub fn sees(asking: &MemoryScope, fact: &MemoryScope) -> bool {
    fact.user == asking.user
        && (fact.agent.is_none() || fact.agent == asking.agent)
        && (fact.session.is_none() || (fact.session == asking.session && fact.agent == asking.agent))
}

/// Whether a fact of scope `fact` lies in `scope` or under it.
pub fn within(fact: &MemoryScope, scope: &MemoryScope) -> bool {
    fact.user == scope.user
        && (scope.agent.is_none() || fact.agent == scope.agent)
        && (scope.session.is_none() || fact.session == scope.session)
}

/// How many levels below the user the scope is (0, 1 or 2): narrower facts win ties.
pub fn depth(scope: &MemoryScope) -> u8 {
    u8::from(scope.agent.is_some()) + u8::from(scope.session.is_some())
}

/// The content terms of a text: folded words without function words, sorted, unique.
pub fn terms(text: &str) -> Vec<String> {
    Query::new(text).terms().map(str::to_string).collect()
}

/// The words that join a subject to its value in sentences whose subject can hold one value at
/// a time; the value is what follows.
const COPULAS: [&str; 6] = [" is ", " are ", " was ", " were ", " = ", ": "];

/// What a fact is about: the caller's key, normalised; else the subject of a "subject is value"
/// sentence when the subject has two content words or more ("The deploy target is eu-west-1"
/// → `deploy target`). Single-word subjects give none: "Rust is fast" and "Rust is safe" do not
/// exclude each other.
pub fn key_of(text: &str, given: Option<&str>) -> Option<String> {
    if let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) {
        let folded = terms(given);
        return Some(if folded.is_empty() { given.to_lowercase() } else { folded.join(" ") });
    }
    let lower = format!(" {} ", text.to_lowercase());
    let (at, copula) = COPULAS.iter().filter_map(|c| lower.find(c).map(|at| (at, c))).min()?;
    let value = &lower[at + copula.len()..];
    let subject = terms(&lower[..at]);
    (subject.len() >= 2 && !terms(value).is_empty()).then(|| subject.join(" "))
}

/// Whether two facts say the same thing: their content terms overlap by at least 90 %
/// (Jaccard), or, without content terms, their texts match ignoring case and spacing.
pub fn same_fact(a_text: &str, a_terms: &[String], b_text: &str, b_terms: &[String]) -> bool {
    if a_terms.is_empty() || b_terms.is_empty() {
        let norm = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        return norm(a_text) == norm(b_text);
    }
    let shared = a_terms.iter().filter(|t| b_terms.binary_search(t).is_ok()).count();
    let union = a_terms.len() + b_terms.len() - shared;
    shared * 10 >= union * 9
}

/// Ms since the epoch at the start (UTC) of a `YYYY-MM-DD` date.
pub fn parse_date(date: &str) -> Option<u64> {
    let mut parts = date.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = (days * 86_400_000) as u64;
    (date_of(ms) == date.trim()).then_some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(user: &str, agent: Option<&str>, session: Option<&str>) -> MemoryScope {
        MemoryScope { user: user.into(), agent: agent.map(Into::into), session: session.map(Into::into) }
    }

    #[test]
    fn a_session_sees_its_own_its_agents_and_its_users_facts_only() {
        let asking = scope("ada", Some("bot"), Some("s1"));
        assert!(sees(&asking, &scope("ada", None, None)));
        assert!(sees(&asking, &scope("ada", Some("bot"), None)));
        assert!(sees(&asking, &scope("ada", Some("bot"), Some("s1"))));
        assert!(!sees(&asking, &scope("ada", Some("bot"), Some("s2"))));
        assert!(!sees(&asking, &scope("ada", Some("other"), None)));
        assert!(!sees(&asking, &scope("ada", None, Some("s1"))), "a session without an agent is another scope");
        assert!(!sees(&asking, &scope("bob", None, None)));
        assert!(!sees(&scope("ada", None, None), &scope("ada", Some("bot"), None)));
        assert!(within(&scope("ada", Some("bot"), Some("s1")), &scope("ada", None, None)));
        assert!(!within(&scope("ada", Some("bot"), None), &scope("ada", Some("bot"), Some("s1"))));
    }

    #[test]
    fn keys_come_from_multi_word_subjects_or_the_caller() {
        assert_eq!(key_of("The deploy target is eu-west-1.", None).as_deref(), Some("deploy target"));
        assert_eq!(key_of("the DEPLOY targets were us-east-1", None).as_deref(), Some("deploy target"));
        assert_eq!(key_of("Deploy target: ap-south-1", None).as_deref(), Some("deploy target"));
        assert_eq!(key_of("Rust is fast", None), None);
        assert_eq!(key_of("We shipped on Friday", None), None);
        assert_eq!(key_of("anything at all", Some(" Deploy  Targets ")).as_deref(), Some("deploy target"));
    }

    #[test]
    fn near_identical_texts_are_the_same_fact_and_changed_values_are_not() {
        let same = |a: &str, b: &str| same_fact(a, &terms(a), b, &terms(b));
        assert!(same("The user prefers dark mode.", "user prefers dark mode"));
        assert!(same("THE USER PREFERS DARK MODE", "The user prefers dark mode!"));
        assert!(!same("The port is 8080", "The port is 8081"));
        assert!(!same("The user prefers dark mode", "The user prefers light mode"));
        assert!(same("It is.", "it   IS."));
    }

    #[test]
    fn dates_round_trip_and_bad_dates_are_refused() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_764_115_200_000), "2025-11-26");
        for d in ["2024-02-29", "2026-11-26", "2000-03-01", "1999-12-31"] {
            assert_eq!(date_of(parse_date(d).unwrap()), d);
        }
        for bad in ["2023-02-29", "2026-13-01", "26-11-2026", "yesterday", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_record_that_is_not_one_does_not_decode() {
        let record = Record {
            scope: scope("ada", None, None),
            text: "x".into(),
            source: None,
            key: None,
            created_ms: 1,
            valid_from_ms: 1,
            valid_to_ms: None,
            superseded_by: None,
        };
        assert_eq!(Record::decode(&record.encode()), Some(record.clone()));
        let mut longer = record.encode();
        longer.push(0);
        assert_eq!(Record::decode(&longer), None);
        assert_eq!(Record::decode(b"\xff\xff\xff"), None);
    }
}
