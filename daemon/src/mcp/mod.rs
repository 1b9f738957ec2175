//! `headroom mcp`: Headroom as an MCP server, so MCP hosts (Claude Code, Cursor, Claude Desktop,
//! Windsurf, Gemini CLI) can compress and retrieve without a proxy or a client library.
//!
//! - [`server`]: `headroom mcp serve` — an MCP server on stdio (newline-delimited JSON-RPC on
//!   stdout, logs on stderr only) built on the official Rust SDK (`rmcp`). Its tools,
//!   `headroom_compress`, `headroom_retrieve` and `headroom_stats`, are thin: each call opens a
//!   connection to the daemon's socket with [`crate::client::Client`], so keys and markers are
//!   the daemon's own and a key made anywhere else is retrievable here, and the other way round.
//!   It never starts a daemon: when none answers, a tool call returns an error result saying how
//!   to start one, and the server keeps serving.
//! - [`gate`]: between stdio and the session: a line too long or too deeply nested for the SDK
//!   gets a JSON-RPC error instead of silence.
//! - [`install`]: `headroom mcp install|uninstall` — adds or removes the `headroom` entry in a
//!   host's MCP configuration file, leaving everything else in the file as it was.
//!
//! The memory tools (`memory_save`, `memory_search`) keep facts per project (docs/memory.md).

pub mod gate;
pub mod install;
pub mod server;

use clap::Subcommand;
use install::Host;
use std::path::PathBuf;

/// `headroom mcp …`.
#[derive(Subcommand)]
pub enum McpCommand {
    /// Serve Headroom's tools to an MCP host over stdio (what the host runs; logs go to stderr).
    Serve,
    /// Add Headroom to an MCP host's configuration (idempotent); prints the file it changed.
    Install {
        /// Which host's configuration to change.
        #[arg(long, value_enum, default_value_t = Host::Claude)]
        host: Host,
    },
    /// Remove Headroom from an MCP host's configuration; prints the file it changed.
    Uninstall {
        /// Which host's configuration to change.
        #[arg(long, value_enum, default_value_t = Host::Claude)]
        host: Host,
    },
}

/// Runs one `headroom mcp` command; `socket` is the daemon's socket the server talks to.
pub fn run(command: McpCommand, socket: PathBuf) -> Result<(), String> {
    match command {
        McpCommand::Serve => server::serve(socket),
        McpCommand::Install { host } => {
            print!("{}", install::install(host, &install::this_program()?)?);
            Ok(())
        }
        McpCommand::Uninstall { host } => {
            print!("{}", install::uninstall(host)?);
            Ok(())
        }
    }
}
