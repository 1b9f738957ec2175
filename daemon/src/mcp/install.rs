//! `headroom mcp install|uninstall`: the `headroom` entry under `mcpServers` in an MCP host's
//! configuration file.
//!
//! The entry runs this very program — the absolute path of the running `headroom` — with
//! `mcp serve`. Installing merges into the file: every other key, server and setting stays as
//! it was (key order and numbers included), fields the user added to our entry (such as `env`)
//! are kept, and a file that already holds the same entry is not rewritten. Uninstalling
//! removes our entry and nothing else. A file that is not a JSON object is never touched. Writes
//! go to a temporary file beside the original, which then replaces it, so a host never reads a
//! half-written configuration; a configuration that is a symbolic link (dotfile managers) is
//! written through the link.

use clap::ValueEnum;
use serde_json::{json, Map, Value};
use std::fmt;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The entry's name under `mcpServers`.
pub const SERVER_NAME: &str = "headroom";

/// An MCP host whose configuration `headroom mcp install` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Host {
    /// Claude Code, user scope (every project): ~/.claude.json, or $CLAUDE_CONFIG_DIR/.claude.json.
    Claude,
    /// Claude Desktop: $XDG_CONFIG_HOME/Claude/claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/).
    ClaudeDesktop,
    /// Cursor, global: ~/.cursor/mcp.json.
    Cursor,
    /// Windsurf: ~/.codeium/windsurf/mcp_config.json.
    Windsurf,
    /// Gemini CLI, user settings: ~/.gemini/settings.json.
    Gemini,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Host::Claude => "Claude Code",
            Host::ClaudeDesktop => "Claude Desktop",
            Host::Cursor => "Cursor",
            Host::Windsurf => "Windsurf",
            Host::Gemini => "Gemini CLI",
        })
    }
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

impl Host {
    /// The configuration file this host reads its MCP servers from, for the current user.
    pub fn config_file(self) -> PathBuf {
        let home = env_dir("HOME").unwrap_or_else(|| PathBuf::from("/"));
        match self {
            Host::Claude => env_dir("CLAUDE_CONFIG_DIR").unwrap_or(home).join(".claude.json"),
            Host::ClaudeDesktop if cfg!(target_os = "macos") => {
                home.join("Library/Application Support/Claude/claude_desktop_config.json")
            }
            Host::ClaudeDesktop => env_dir("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config")).join("Claude/claude_desktop_config.json"),
            Host::Cursor => home.join(".cursor/mcp.json"),
            Host::Windsurf => home.join(".codeium/windsurf/mcp_config.json"),
            Host::Gemini => home.join(".gemini/settings.json"),
        }
    }

    /// Our entry's fields as this host spells a stdio server. Claude Code writes `type` and an
    /// empty `env` itself (`claude mcp add`); the others take `command` and `args` alone.
    fn entry(self, program: &str) -> Map<String, Value> {
        let entry = match self {
            Host::Claude => json!({"type": "stdio", "command": program, "args": ["mcp", "serve"], "env": {}}),
            _ => json!({"command": program, "args": ["mcp", "serve"]}),
        };
        let Value::Object(entry) = entry else { unreachable!("an object literal") };
        entry
    }
}

/// The absolute path of the running `headroom`, which the hosts will start.
pub fn this_program() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))
}

/// Adds (or updates) the `headroom` entry in `host`'s configuration so that it runs
/// `program mcp serve`. Returns what was done, naming the file.
pub fn install(host: Host, program: &Path) -> Result<String, String> {
    let program = program.to_str().ok_or_else(|| format!("{} is not valid UTF-8; a JSON configuration cannot name it", program.display()))?;
    let file = host.config_file();
    let mut root = read(&file)?.unwrap_or_default();
    let servers = root.entry("mcpServers").or_insert_with(|| json!({}));
    let servers =
        servers.as_object_mut().ok_or_else(|| format!("{}: `mcpServers` is not an object; nothing was changed", file.display()))?;
    let previous = servers.get(SERVER_NAME).cloned();
    let mut entry = previous.as_ref().and_then(Value::as_object).cloned().unwrap_or_default();
    for (key, value) in host.entry(program) {
        if key == "env" {
            entry.entry(key).or_insert(value);
        } else {
            entry.insert(key, value);
        }
    }
    let entry = Value::Object(entry);
    if previous.as_ref() == Some(&entry) {
        return Ok(format!("unchanged {}: {host} already runs {program} mcp serve\n", file.display()));
    }
    servers.insert(SERVER_NAME.to_string(), entry);
    write(&file, &root)?;
    let verb = if previous.is_some() { "updated" } else { "added" };
    Ok(format!(
        "{verb} mcpServers.{SERVER_NAME} in {}: {host} runs {program} mcp serve\nrestart {host} (or start a new session) to load it\n",
        file.display()
    ))
}

/// Removes the `headroom` entry from `host`'s configuration, if it is there. Returns what was
/// done, naming the file.
pub fn uninstall(host: Host) -> Result<String, String> {
    let file = host.config_file();
    let not_installed = || Ok(format!("unchanged {}: {SERVER_NAME} was not installed for {host}\n", file.display()));
    let Some(mut root) = read(&file)? else { return not_installed() };
    // `shift_remove` keeps the order of the servers that stay.
    let removed = root.get_mut("mcpServers").and_then(Value::as_object_mut).and_then(|s| s.shift_remove(SERVER_NAME));
    if removed.is_none() {
        return not_installed();
    }
    write(&file, &root)?;
    Ok(format!("removed mcpServers.{SERVER_NAME} from {}\nrestart {host} to unload it\n", file.display()))
}

/// The file's top-level object; `None` when there is no file, an empty object when it is empty.
fn read(file: &Path) -> Result<Option<Map<String, Value>>, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_str(&text) {
        Ok(Value::Object(root)) => Ok(Some(root)),
        Ok(_) => Err(format!("{} does not hold a JSON object; nothing was changed", file.display())),
        Err(e) => Err(format!(
            "{} is not valid JSON ({e}); nothing was changed: fix or move the file, then run this again",
            file.display()
        )),
    }
}

/// Replaces the file (through a symbolic link, if it is one) with `root`, pretty-printed as the
/// hosts write it, keeping its permissions; a new file is private to the user (0600).
fn write(file: &Path, root: &Map<String, Value>) -> Result<(), String> {
    let target = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let dir = target.parent().ok_or_else(|| format!("{} has no directory", target.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mode = std::fs::metadata(&target).map_or(0o600, |m| m.permissions().mode());
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{name}.headroom-{}", std::process::id()));
    let mut text = serde_json::to_string_pretty(root).expect("JSON values serialise");
    text.push('\n');
    let written = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode)))
        .and_then(|()| std::fs::rename(&temporary, &target));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {e}", target.display())
    })
}
