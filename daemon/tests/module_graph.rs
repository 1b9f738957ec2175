//! The daemon's modules import each other without circles, read from the sources: between the
//! top-level modules (a folder counts as one: `engine/`, `compressors/`, `app/`, …), and between
//! the files of each folder (its `mod.rs` aside, which declares the others). A circle is a
//! boundary that no longer holds; docs/architecture.md draws the layers this keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file without comments, string and character literals, and its unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            i += rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        } else if rest.starts_with(b"'\"'") || rest.starts_with(b"'\\''") {
            i += if rest[1] == b'\\' { 4 } else { 3 };
        } else if let Some(hashes) = rest.strip_prefix(b"r").map(|r| r.iter().take_while(|b| **b == b'#').count()) {
            let open = 1 + hashes;
            if bytes.get(i + open) == Some(&b'"') && hashes > 0 {
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let body = &bytes[i + open + 1..];
                i += open + 1 + body.windows(close.len()).position(|w| w == close.as_slice()).map_or(body.len(), |n| n + close.len());
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        } else if rest[0] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first path segments named after `prefix` (`crate::`, `super::`), with `{a, b::c}` groups
/// opened: `use crate::{engine::Engine, store}` names `engine` and `store`.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            items.push(item);
            names.extend(items.iter().map(|i| head(i.trim())).filter(|n| !n.is_empty()));
        } else {
            names.insert(head(rest));
        }
    }
    names.remove("");
    names
}

fn head(path: &str) -> String {
    path.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A circle in `graph`, as the nodes along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Top-level modules and who imports whom, plus per folder the same between its files.
fn graphs() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) {
    let root = src();
    let top_level: BTreeSet<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "lib" && name != "bin")
        .collect();
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut folders: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in rust_files(&root) {
        let relative = file.strip_prefix(&root).unwrap();
        let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let module = parts[0].trim_end_matches(".rs").to_string();
        if !top_level.contains(&module) {
            continue;
        }
        let code = code(&std::fs::read_to_string(&file).unwrap());
        let crate_names = names_after(&code, "crate::");
        let imports = modules.entry(module.clone()).or_default();
        imports.extend(crate_names.iter().filter(|n| top_level.contains(*n) && **n != module).cloned());
        if parts.len() == 2 && parts[1] != "mod.rs" {
            let this = parts[1].trim_end_matches(".rs").to_string();
            let siblings: BTreeSet<String> = rust_files(&root.join(&module))
                .iter()
                .filter(|p| p.parent() == Some(&root.join(&module)))
                .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
                .filter(|n| n != "mod")
                .collect();
            let mut named = names_after(&code, "super::");
            let inside = format!("crate::{module}::");
            named.extend(names_after(&code, &inside));
            let files = folders.entry(module.clone()).or_default();
            files.entry(this.clone()).or_default().extend(named.into_iter().filter(|n| siblings.contains(n) && *n != this));
        }
    }
    (modules, folders)
}

#[test]
fn top_level_modules_import_each_other_without_circles() {
    let (modules, _) = graphs();
    assert!(modules.len() > 10, "the sources were not found: {modules:?}");
    assert!(modules["app"].contains("engine"), "the reader misses imports: {:?}", modules["app"]);
    if let Some(found) = circle(&modules) {
        panic!("a circle between modules: {}", found.join(" -> "));
    }
}

#[test]
fn the_files_of_each_folder_import_each_other_without_circles() {
    let (_, folders) = graphs();
    assert!(folders["compressors"].get("numbered").is_some_and(|i| i.contains("doc_blocks")), "the reader misses imports");
    for (folder, files) in &folders {
        if let Some(found) = circle(files) {
            panic!("a circle between the files of {folder}/: {}", found.join(" -> "));
        }
    }
}

#[test]
fn the_layers_hold() {
    // What sits below never imports what sits above: the request side and the compressors know
    // nothing of the engine's pipeline, memory or the fronts; the core knows no front.
    let (modules, _) = graphs();
    let below = |module: &str, above: &[&str]| {
        for other in above {
            assert!(!modules[module].contains(*other), "{module} imports {other}, which sits above it");
        }
    };
    below("request", &["compressors", "engine", "memory", "app", "server", "http", "mcp", "cli"]);
    below("compressors", &["engine", "memory", "app", "server", "http", "mcp", "cli"]);
    below("engine", &["app", "server", "http", "mcp", "cli"]);
    below("memory", &["engine", "app", "server", "http", "mcp", "cli"]);
    below("app", &["server", "http", "mcp", "cli", "daemon"]);
    below("server", &["http"]);
    below("http", &["server"]);
}

#[test]
fn the_reader_opens_groups_and_skips_comments_and_strings() {
    let text = "use crate::{engine::Engine, store::{Stores, ccr}};\n// crate::cli in a comment\nlet s = \"crate::http\";\nlet q = '\"';\nlet r = r#\"crate::mcp \"\"#;\nfn f() { crate::log::flush() }\n";
    let names = names_after(&code(text), "crate::");
    assert_eq!(names, ["engine", "log", "store"].into_iter().map(String::from).collect());
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(circle(&graph), Some(vec!["a".into(), "b".into(), "a".into()]));
}
