//! `protocol/schema.json` is the wire read out of the Rust types: every struct with its fields in
//! wire order, every enum with its variants in index order, their types and doc comments, and the
//! protocol's constants. The clients' codecs are generated from it (`protocol/generate.py`), so
//! the Rust types stay the one source of truth. This test fails when the file is stale;
//! `HEADROOM_WRITE_SCHEMA=1 cargo test -p headroom-protocol --test schema` rewrites it.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use syn::{Attribute, Expr, Fields, GenericArgument, Item, Lit, PathArguments, Type};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `///` lines of an item, joined with newlines, each without its one leading space.
fn doc(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(lit) = &nv.value {
                if let Lit::Str(s) = &lit.lit {
                    let line = s.value();
                    lines.push(line.strip_prefix(' ').unwrap_or(&line).to_string());
                }
            }
        }
    }
    lines.join("\n")
}

/// `#[serde(rename_all = "…")]` on an enum: the spelling its variants have in text.
fn rename_all(attrs: &[Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = Some(value.value());
            }
            Ok(())
        })
        .expect("serde attribute");
    }
    found
}

/// A field's Rust type as a wire type: a primitive, `string`, `bytes` (`Vec<u8>`), `option<T>`,
/// `vec<T>` or the name of another type of the schema.
fn wire_type(ty: &Type) -> String {
    let Type::Path(path) = ty else { panic!("unsupported wire type: only named types travel") };
    let last = path.path.segments.last().expect("type name");
    let name = last.ident.to_string();
    let argument = || match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(GenericArgument::Type(inner)) => inner,
            _ => panic!("{name} without a type argument"),
        },
        _ => panic!("{name} without a type argument"),
    };
    match name.as_str() {
        "u8" | "u32" | "u64" | "f32" | "bool" => name,
        "String" => "string".into(),
        "Option" => format!("option<{}>", wire_type(argument())),
        "Vec" => match wire_type(argument()).as_str() {
            "u8" => "bytes".into(),
            inner => format!("vec<{inner}>"),
        },
        other => other.to_string(),
    }
}

fn struct_schema(item: &syn::ItemStruct) -> Value {
    let Fields::Named(fields) = &item.fields else { panic!("{}: only named fields travel", item.ident) };
    let fields: Vec<Value> = fields
        .named
        .iter()
        .map(|f| {
            json!({
                "name": f.ident.as_ref().expect("named").to_string(),
                "type": wire_type(&f.ty),
                "doc": doc(&f.attrs),
            })
        })
        .collect();
    json!({ "name": item.ident.to_string(), "kind": "struct", "doc": doc(&item.attrs), "fields": fields })
}

fn enum_schema(item: &syn::ItemEnum) -> Value {
    let variants: Vec<Value> = item
        .variants
        .iter()
        .map(|v| {
            let payload = match &v.fields {
                Fields::Unit => Value::Null,
                Fields::Unnamed(one) if one.unnamed.len() == 1 => Value::from(wire_type(&one.unnamed[0].ty)),
                _ => panic!("{}::{}: a variant carries nothing or one value", item.ident, v.ident),
            };
            json!({ "name": v.ident.to_string(), "payload": payload, "doc": doc(&v.attrs) })
        })
        .collect();
    let mut schema =
        json!({ "name": item.ident.to_string(), "kind": "enum", "doc": doc(&item.attrs), "variants": variants });
    if let Some(rename) = rename_all(&item.attrs) {
        schema["rename_all"] = Value::from(rename);
    }
    schema
}

/// A `pub const NAME: T = <integer expression>;` of a file, evaluated for `a`, `a * b` and `a << b`.
fn constant(file: &syn::File, name: &str) -> u64 {
    fn eval(expr: &Expr) -> u64 {
        match expr {
            Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => int.base10_parse().expect("integer"),
            Expr::Binary(bin) => {
                let (l, r) = (eval(&bin.left), eval(&bin.right));
                match bin.op {
                    syn::BinOp::Mul(_) => l * r,
                    syn::BinOp::Shl(_) => l << r,
                    _ => panic!("unsupported operator in a constant"),
                }
            }
            Expr::Paren(p) => eval(&p.expr),
            _ => panic!("unsupported constant expression"),
        }
    }
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Const(c) if c.ident == name => Some(eval(&c.expr)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no constant {name}"))
}

fn schema() -> Value {
    let src = crate_dir().join("src");
    let messages = parse(&src.join("message.rs"));
    let types: Vec<Value> = messages
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some(struct_schema(s)),
            Item::Enum(e) => Some(enum_schema(e)),
            _ => None,
        })
        .collect();
    json!({
        "about": "Generated from protocol/src/*.rs by protocol/tests/schema.rs; do not edit.",
        "protocol_version": constant(&parse(&src.join("lib.rs")), "PROTOCOL_VERSION"),
        "default_max_frame": constant(&parse(&src.join("codec.rs")), "DEFAULT_MAX_FRAME"),
        "types": types,
    })
}

/// `value` with every object's keys in sorted order, whichever map serde_json was built with
/// (the workspace's other crates turn on `preserve_order`, which keeps insertion order).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[test]
fn schema_json_is_current() {
    let path = crate_dir().join("schema.json");
    let fresh = serde_json::to_string_pretty(&sorted(schema())).expect("json") + "\n";
    if std::env::var_os("HEADROOM_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).expect("write schema.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "protocol/schema.json is stale: run HEADROOM_WRITE_SCHEMA=1 cargo test -p headroom-protocol --test \
         schema, then python3 protocol/generate.py"
    );
}

#[test]
fn schema_matches_the_compiled_types() {
    // The parsed source and the compiled code must agree: every operation the schema lists is one
    // the crate counts, and the codec's constant is the one read out of the source.
    let schema = schema();
    let op = schema["types"].as_array().unwrap().iter().find(|t| t["name"] == "Op").expect("Op");
    assert_eq!(op["variants"].as_array().unwrap().len() as u32, headroom_protocol::OP_COUNT);
    assert_eq!(schema["protocol_version"], headroom_protocol::PROTOCOL_VERSION);
    assert_eq!(schema["default_max_frame"], headroom_protocol::DEFAULT_MAX_FRAME as u64);
}
