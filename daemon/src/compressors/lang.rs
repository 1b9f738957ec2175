//! The source languages Headroom reads: which one a file is (from its path or its content), its
//! tree-sitter grammar, and which of its nodes are functions whose bodies may be elided. The code
//! compressor, the quick skeleton scan and the listing compressor share it.

use tree_sitter::{Language, Parser};

/// The languages the code compressor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    Rust,
    Go,
    Java,
    C,
    Cpp,
}

impl Lang {
    /// What opens a line comment: notes standing in for cut lines are written as one.
    pub fn line_comment(self) -> &'static str {
        if self == Lang::Python { "#" } else { "//" }
    }

    /// The language of a file path, from its extension.
    pub fn from_path(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "rs" => Lang::Rust,
            "go" => Lang::Go,
            "java" => Lang::Java,
            "c" | "h" => Lang::C,
            "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Lang::Cpp,
            _ => return None,
        })
    }

    /// A guess from the content alone, for output without a file path.
    pub fn from_content(text: &str) -> Option<Lang> {
        let head: Vec<&str> = text.lines().take(400).collect();
        let count = |f: &dyn Fn(&str) -> bool| head.iter().filter(|l| f(l)).count();
        if let Some(shebang) = head.first().filter(|l| l.starts_with("#!")) {
            if shebang.contains("python") {
                return Some(Lang::Python);
            }
            if shebang.contains("node") {
                return Some(Lang::JavaScript);
            }
        }
        if head.iter().any(|l| l.starts_with("package ")) && count(&|l| l.starts_with("func ")) > 0 {
            return Some(Lang::Go);
        }
        if count(&|l| l.starts_with("#include")) > 0 {
            let cpp = count(&|l| l.contains("std::") || l.starts_with("namespace ") || l.starts_with("class ") || l.starts_with("template"));
            return Some(if cpp > 0 { Lang::Cpp } else { Lang::C });
        }
        if count(&|l| l.starts_with("import java.") || l.contains("public class ")) > 0 {
            return Some(Lang::Java);
        }
        let python = count(&|l| {
            let t = l.trim_start();
            (t.starts_with("def ") || t.starts_with("class ")) && l.trim_end().ends_with(':')
        }) + count(&|l| l.starts_with("import ") && !l.contains(" from ") && !l.ends_with(';'));
        let rust = count(&|l| {
            let t = l.trim_start();
            t.starts_with("fn ") || t.starts_with("pub fn ") || t.starts_with("impl ") || t.starts_with("use ") && l.ends_with(';')
        });
        let script = count(&|l| {
            let t = l.trim_start();
            t.starts_with("function ") || t.starts_with("export ") || t.starts_with("const ") && l.trim_end().ends_with([';', '{', '('])
        });
        let typed = count(&|l| l.starts_with("interface ") || l.contains(": string") || l.contains(": number"));
        let best = python.max(rust).max(script);
        if best < 2 {
            return None;
        }
        Some(if best == python {
            Lang::Python
        } else if best == rust {
            Lang::Rust
        } else if typed > 0 {
            // JSX closes its elements as markup does (`</div>`, `/>`).
            if text.contains("</") || text.contains("/>") { Lang::Tsx } else { Lang::TypeScript }
        } else {
            Lang::JavaScript
        })
    }

    /// Whether `text` is an ECMAScript module (two or more lines opening with `import … from` or
    /// `export`): source, even when its JSX closes tags as a page does.
    pub fn is_es_module(text: &str) -> bool {
        let module_lines = text.lines().take(400).filter(|l| l.starts_with("import ") && l.contains(" from ") || l.starts_with("export ")).count();
        module_lines >= 2
    }

    /// Whether `code` parses without errors (for `headroom doctor`).
    pub fn parses(self, code: &str) -> bool {
        let mut parser = Parser::new();
        parser.set_language(&self.grammar()).is_ok() && parser.parse(code, None).is_some_and(|t| !t.root_node().has_error())
    }

    /// The tree-sitter grammar that parses the language.
    pub fn grammar(self) -> Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::C => tree_sitter_c::LANGUAGE.into(),
            Lang::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        }
    }

    /// Node kinds of functions whose `body` may be elided.
    pub fn functions(self) -> &'static [&'static str] {
        match self {
            Lang::Python => &["function_definition"],
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => &[
                "function_declaration",
                "generator_function_declaration",
                "method_definition",
                "function_expression",
                "arrow_function",
            ],
            Lang::Rust => &["function_item"],
            Lang::Go => &["function_declaration", "method_declaration", "func_literal"],
            Lang::Java => &["method_declaration", "constructor_declaration"],
            Lang::C | Lang::Cpp => &["function_definition"],
        }
    }
}
