//! The functions of a file that a body calls. An answer often sits one call away from the
//! function the question names: `default()` returns `Self::new()`, which holds the defaults;
//! `compute_retry_delay` asks `delay_amount`. A short body kept for the question hands its
//! question on to the functions it calls.

use super::{in_few_names, is_identifier_char, last_identifier, name_words, names_a_term, Function, Lang, MATCHING_BODIES};
use crate::request::query::Query;
use tree_sitter::Node;

/// A callee of at most this many lines is kept whole; a longer one keeps its marker.
const KEPT_CALLEE_LINES: usize = 40;

/// How a call names the function it calls.
#[derive(Debug, PartialEq)]
enum Callee<'a> {
    /// `name(…)`: a free function.
    Bare(&'a str),
    /// `self.name(…)`, `this.name(…)`, `Self::name(…)`: a function of the caller's own type.
    Own(&'a str),
    /// `receiver.name(…)`, `Type::name(…)`: a function of that type, or the one so named.
    On(&'a str, &'a str),
}

impl<'a> Callee<'a> {
    fn name(&self) -> &'a str {
        match self {
            Callee::Bare(name) | Callee::Own(name) | Callee::On(_, name) => name,
        }
    }
}

/// Keeps the bodies that the short bodies named by a word of `query` call (a word in the names
/// of few functions, as [`super::bodies_to_keep`] reads names), or whose small type a word of
/// the whole question `asked` names (see [`KEPT_CALLEE_LINES`]), and those a short callee calls
/// in turn (`default()` → `Self::new()` → `Builder::new()`). A call is followed only to the one
/// function of the file it can name: the caller's own type's for `self.`, the free function
/// for a bare name, the type's or the only one so named for a receiver.
pub(super) fn keep_callees(lang: Lang, text: &str, functions: &[Function], parent: &[Option<usize>], query: &Query, asked: &Query, keep: &mut [bool]) {
    let owners: Vec<Option<&str>> = functions.iter().map(|f| owner(lang, f.node, text)).collect();
    let name_words: Vec<Vec<String>> = functions.iter().map(|f| name_words(&f.name)).collect();
    let in_few_names = in_few_names(&name_words);
    let naming = query.only(&in_few_names);
    // A function of a small type the question names speaks for it (`fmt` of `Error` for "the
    // error's message", though errors are in every body); a type of many functions is what the
    // whole file is about.
    let naming_types = asked.only(&in_few_names);
    let small = |owner: &str| owners.iter().filter(|o| **o == Some(owner)).count() <= MATCHING_BODIES;
    let named = |i: usize| names_a_term(&name_words[i], &naming) || owners[i].is_some_and(|owner| small(owner) && names_a_term(&super::name_words(owner), &naming_types));
    // A short body mostly hands its work to what it calls; a long one holds its own answer.
    let mut callers: Vec<usize> = (0..functions.len()).filter(|&i| keep[i] && functions[i].is_short() && named(i)).collect();
    let mut followed = vec![false; functions.len()];
    while let Some(caller) = callers.pop() {
        followed[caller] = true;
        for callee in calls(&text[functions[caller].body.start_byte()..functions[caller].end]) {
            let Some(j) = resolve(&callee, owners[caller], functions, &owners) else { continue };
            let f = &functions[j];
            if parent[j].is_some_and(|p| !keep[p]) || !keep[j] && f.rows.1 - f.rows.0 >= KEPT_CALLEE_LINES {
                continue;
            }
            keep[j] = true;
            if f.is_short() && !followed[j] {
                callers.push(j);
            }
        }
    }
}

/// The one function `callee` can name, if exactly one fits.
fn resolve(callee: &Callee, caller_owner: Option<&str>, functions: &[Function], owners: &[Option<&str>]) -> Option<usize> {
    let named: Vec<usize> = (0..functions.len()).filter(|&i| functions[i].name == callee.name()).collect();
    let of = |owner: Option<&str>| -> Vec<usize> { named.iter().copied().filter(|&i| owners[i] == owner).collect() };
    let fitting = match callee {
        Callee::Bare(_) => of(None),
        Callee::Own(_) => of(caller_owner),
        Callee::On(receiver, _) => match of(Some(receiver)) {
            on_type if on_type.is_empty() => named,
            on_type => on_type,
        },
    };
    match fitting[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// The type a function is defined on: a Rust `impl`'s type (`impl Default for Builder` is
/// `Builder`'s), a class's name, a Go method's receiver type; `None` for a free function.
fn owner<'t>(lang: Lang, node: Node, text: &'t str) -> Option<&'t str> {
    if lang == Lang::Go {
        let receiver = node.child_by_field_name("receiver")?;
        return last_identifier(&text[receiver.byte_range()]);
    }
    let mut up = node.parent();
    while let Some(p) = up {
        let field = match p.kind() {
            "impl_item" => "type",
            "class_definition" | "class_declaration" | "class" | "abstract_class_declaration" => "name",
            kind if lang.functions().contains(&kind) => return None,
            _ => {
                up = p.parent();
                continue;
            }
        };
        let named = p.child_by_field_name(field)?;
        // `Builder<T>` is `Builder`.
        let name = text[named.byte_range()].split('<').next()?;
        return last_identifier(name);
    }
    None
}

/// The calls in a body's text: each identifier followed by `(`, with what precedes it (a
/// definition's own name, after `fn`, `def`, `func` or `function`, is no call).
fn calls(body: &str) -> Vec<Callee<'_>> {
    let mut found = Vec::new();
    let mut start = None;
    // A space past the end closes an identifier the body ends with.
    for (at, c) in body.char_indices().chain([(body.len(), ' ')]) {
        match (start, is_identifier_char(c)) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                start = None;
                let name = &body[from..at];
                if body[at..].trim_start_matches([' ', '\t']).starts_with('(') && !name.starts_with(|c: char| c.is_ascii_digit()) {
                    found.extend(callee(&body[..from], name));
                }
            }
            _ => {}
        }
    }
    found
}

/// How the text `before` a called `name` qualifies it.
fn callee<'a>(before: &'a str, name: &'a str) -> Option<Callee<'a>> {
    let receiver = |rest: &'a str| last_identifier(rest).filter(|r| rest.ends_with(r));
    if let Some(rest) = before.strip_suffix("?.").or_else(|| before.strip_suffix('.')) {
        return Some(match receiver(rest) {
            Some("self" | "this") => Callee::Own(name),
            Some(other) => Callee::On(other, name),
            None => Callee::On("", name),
        });
    }
    if let Some(rest) = before.strip_suffix("::") {
        return Some(match receiver(rest) {
            Some("Self") => Callee::Own(name),
            Some(other) => Callee::On(other, name),
            None => Callee::On("", name),
        });
    }
    let previous = before.trim_end().rsplit(|c: char| !is_identifier_char(c)).next().unwrap_or("");
    (!matches!(previous, "fn" | "def" | "func" | "function")).then_some(Callee::Bare(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_read_their_qualifier() {
        let body = "{ let b = Self::new(); self.flush(x); Builder::new().go(); helper(1); fn inner() {} obj?.run(); }";
        assert_eq!(
            calls(body),
            vec![
                Callee::Own("new"),
                Callee::Own("flush"),
                Callee::On("Builder", "new"),
                Callee::On("", "go"),
                Callee::Bare("helper"),
                Callee::On("obj", "run"),
            ]
        );
    }
}
