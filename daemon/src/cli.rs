//! The `headroom` command: compress, retrieve, stats, ping and memory, through the daemon or
//! (with `--local`) with the engine in this process.

use crate::client::{Client, ClientError};
use crate::config;
use crate::clock::now_ms;
use crate::engine::Engine;
use crate::{doctor, savings, service};
use crate::store::{Stores, DEFAULT_MAP_SIZE};
use clap::{Parser, Subcommand, ValueEnum};
use crate::clock::date_of;
use crate::memory::facts::parse_date;
use headroom_protocol::{
    CompressOptions, CompressReply, MemoryAddRequest, MemoryFact, MemoryForgetRequest, MemoryListRequest, MemoryOptions,
    MemoryScope, MemorySearchRequest, Op, ProviderFormat, RetrieveReply,
};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Headroom: compress what your LLM reads.
#[derive(Parser)]
#[command(name = "headroom", version)]
pub struct Cli {
    /// The daemon's socket (default: $HEADROOM_SOCKET, else $XDG_RUNTIME_DIR/headroom/headroomd.sock).
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compress a messages array or a request object ({"messages": [...], "model": ...}) from
    /// FILE or stdin; writes the same shape to stdout and a savings line to stderr.
    Compress {
        /// Input file; `-` or nothing for stdin.
        file: Option<PathBuf>,
        #[command(flatten)]
        local: Local,
        /// Model name (default: the request's `model`, else an o200k model).
        #[arg(long)]
        model: Option<String>,
        /// Message shape.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// What the model will be asked (default: the latest user message).
        #[arg(long)]
        query: Option<String>,
        /// Trailing messages to leave untouched.
        #[arg(long, default_value_t = 0)]
        protect_recent: u32,
        /// Leading messages to pass through byte for byte.
        #[arg(long, default_value_t = 0)]
        frozen: u32,
        /// Wanted compressed size as a share of the original.
        #[arg(long)]
        target_ratio: Option<f32>,
        /// Also compress long user-pasted content.
        #[arg(long)]
        compress_user_messages: bool,
        /// Put remembered facts of the scope (--user, --agent, --session) in front of the latest
        /// user message.
        #[arg(long)]
        memory: bool,
        /// With --memory, also offer the model the memory_save and memory_search tools.
        #[arg(long)]
        memory_tools: bool,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Remember, search, list, forget and export facts (see docs/memory.md).
    Memory {
        #[command(subcommand)]
        command: MemoryCommand,
    },
    /// Print the original behind a marker's key.
    Retrieve {
        key: String,
        /// Only lines containing these words.
        #[arg(long)]
        query: Option<String>,
        #[command(flatten)]
        local: Local,
    },
    /// Print the daemon's counters.
    Stats {
        /// In the Prometheus text format (what `GET /metrics` on the HTTP front answers).
        #[arg(long)]
        prometheus: bool,
    },
    /// What Headroom saved: totals, a bar per day, and a table by model, compressor or client.
    Savings {
        /// How far back: `all`, or hours or days like `24h`, `7d`.
        #[arg(long, default_value = "7d")]
        since: String,
        /// The table to show.
        #[arg(long, value_enum, default_value = "model")]
        by: SavingsBy,
        /// Print the report as JSON (what the dashboard reads).
        #[arg(long, conflicts_with = "export")]
        json: bool,
        /// Print the report for another program: one CSV row per day, or the JSON.
        #[arg(long, value_enum)]
        export: Option<Export>,
    },
    /// Find the mistakes your coding agent keeps making in its own logs, and write what fixed
    /// them where it reads its instructions (a dry run unless --apply).
    Learn {
        /// Whose logs: claude (Claude Code), codex (Codex CLI) or gemini (Gemini CLI).
        #[arg(long, value_enum, default_value = "claude")]
        agent: LearnAgent,
        /// The project the sessions worked on (default: the current directory).
        #[arg(long)]
        project: Option<PathBuf>,
        /// Read these log files or folders instead of the agent's own log folder.
        #[arg(long)]
        logs: Vec<PathBuf>,
        /// Write the block into this file (default: CLAUDE.local.md, AGENTS.md or GEMINI.md in
        /// the project).
        #[arg(long)]
        target: Option<PathBuf>,
        /// Write the block; without it, print it and the change it would make.
        #[arg(long)]
        apply: bool,
        /// Skip Claude Code's subagent transcripts.
        #[arg(long)]
        main_only: bool,
        /// Have an OpenAI-compatible model word the rules (HEADROOM_LEARN_BASE_URL,
        /// HEADROOM_LEARN_MODEL, HEADROOM_LEARN_API_KEY or OPENAI_API_KEY); what was found stays.
        #[arg(long)]
        llm: bool,
    },
    /// Open the savings dashboard in the browser: a page on 127.0.0.1 behind a random token.
    Dashboard {
        /// Print the URL without opening a browser.
        #[arg(long)]
        no_open: bool,
        /// The port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Check that the daemon answers.
    Ping,
    /// Print the socket path this command would use.
    SocketPath,
    /// Install, remove or inspect the systemd user units.
    Service {
        #[arg(value_enum)]
        action: ServiceAction,
    },
    /// Show the effective configuration and where each value came from.
    Config {
        #[arg(value_enum)]
        action: ConfigAction,
    },
    /// Check the socket, the stores, the tokenizer, the grammars and the models.
    Doctor,
    /// Run a coding agent (claude, codex, aider, any OpenAI-compatible CLI) with its base URL
    /// on the daemon's HTTP front: `headroom wrap claude -- --resume`.
    Wrap {
        agent: String,
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Undo what `headroom wrap` changed persistently (nothing: it only sets the agent's environment).
    Unwrap,
    /// Headroom as an MCP server: `serve` (what MCP hosts run), `install` / `uninstall` (a host's config).
    Mcp {
        #[command(subcommand)]
        command: crate::mcp::McpCommand,
    },
}

/// The dimension of `headroom savings`' table.
#[derive(Clone, Copy, ValueEnum)]
enum SavingsBy {
    Model,
    Compressor,
    Client,
}

/// The agents `headroom learn` reads.
#[derive(Clone, Copy, ValueEnum)]
enum LearnAgent {
    Claude,
    Codex,
    Gemini,
}

/// The formats of `headroom savings --export`.
#[derive(Clone, Copy, ValueEnum)]
enum Export {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum MemoryCommand {
    /// Remember a fact.
    Add {
        text: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// What the fact is about; a new fact with the same key replaces the old one.
        #[arg(long)]
        key: Option<String>,
        /// Where the fact came from.
        #[arg(long)]
        source: Option<String>,
        /// When it became true (YYYY-MM-DD, UTC; default now).
        #[arg(long)]
        valid_from: Option<String>,
    },
    /// The facts the scope sees, most relevant first.
    Search {
        query: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// What was true on this day (YYYY-MM-DD, UTC) instead of now.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// Most tokens of fact text (0: no bound).
        #[arg(long, default_value_t = 0)]
        budget_tokens: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The facts the scope sees, newest first.
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long)]
        as_of: Option<String>,
        /// Also facts that were superseded.
        #[arg(long)]
        all: bool,
        /// Every fact under the scope instead of what it sees.
        #[arg(long)]
        narrower: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete one fact (--id) or every fact under the scope (--all), for good.
    Forget {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Every fact under the scope, superseded ones too, as JSON lines.
    Export {
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// A memory scope on the command line.
#[derive(clap::Args)]
struct ScopeArgs {
    /// The user (default: the login name).
    #[arg(long)]
    user: Option<String>,
    /// The agent or project.
    #[arg(long)]
    agent: Option<String>,
    /// The session (conversation).
    #[arg(long)]
    session: Option<String>,
}

impl ScopeArgs {
    fn scope(self) -> MemoryScope {
        let login = || std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| nix::unistd::getuid().to_string());
        MemoryScope { user: self.user.unwrap_or_else(login), agent: self.agent, session: self.session }
    }
}

fn day(date: Option<String>) -> Result<Option<u64>, String> {
    date.map(|d| parse_date(&d).ok_or_else(|| format!("{d:?} is not a date (YYYY-MM-DD)"))).transpose()
}

fn print_facts(facts: &[MemoryFact], json: bool) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for f in facts {
        let line = if json {
            serde_json::to_string(f).map_err(|e| e.to_string())?
        } else {
            let until = f.valid_to_ms.map(|t| format!(", until {}", date_of(t))).unwrap_or_default();
            let scope = [Some(f.scope.user.as_str()), f.scope.agent.as_deref(), f.scope.session.as_deref()]
                .map(|p| p.unwrap_or("-"))
                .join("/");
            format!("{}  {scope}  {}  (since {}{until})", f.id, f.text, date_of(f.valid_from_ms))
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn memory(socket: PathBuf, command: MemoryCommand) -> Result<(), String> {
    match command {
        MemoryCommand::Add { text, scope, key, source, valid_from } => {
            let request = MemoryAddRequest { scope: scope.scope(), text, source, key, valid_from_ms: day(valid_from)? };
            let reply = daemon(socket, async |c: &mut Client| c.memory_add(request).await)?;
            let what = if reply.duplicate { "already remembered as" } else { "saved as" };
            print!("{what} fact {}", reply.fact.id);
            if !reply.superseded.is_empty() {
                print!("; it replaces {}", reply.superseded.join(", "));
            }
            println!();
            Ok(())
        }
        MemoryCommand::Search { query, scope, as_of, limit, budget_tokens, json } => {
            let op = Op::MemorySearch(MemorySearchRequest { scope: scope.scope(), query, as_of_ms: day(as_of)?, limit, budget_tokens });
            print_facts(&daemon(socket, async |c: &mut Client| c.memory_facts(op).await)?, json)
        }
        MemoryCommand::List { scope, as_of, all, narrower, json } => {
            let op = Op::MemoryList(MemoryListRequest {
                scope: scope.scope(),
                as_of_ms: day(as_of)?,
                include_superseded: all,
                include_narrower: narrower,
            });
            print_facts(&daemon(socket, async |c: &mut Client| c.memory_facts(op).await)?, json)
        }
        MemoryCommand::Export { scope } => {
            let op = Op::MemoryList(MemoryListRequest { scope: scope.scope(), as_of_ms: None, include_superseded: true, include_narrower: true });
            print_facts(&daemon(socket, async |c: &mut Client| c.memory_facts(op).await)?, true)
        }
        MemoryCommand::Forget { scope, id, all: _ } => {
            let request = MemoryForgetRequest { scope: scope.scope(), id };
            let removed = daemon(socket, async |c: &mut Client| c.memory_forget(request).await)?;
            println!("forgot {removed} fact(s)");
            Ok(())
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ServiceAction {
    Install,
    Uninstall,
    Status,
}

#[derive(Clone, Copy, ValueEnum)]
enum ConfigAction {
    Show,
}

#[derive(clap::Args)]
struct Local {
    /// Run the engine in this process instead of asking the daemon.
    #[arg(long)]
    local: bool,
    /// State directory for --local (default: $XDG_STATE_HOME/headroom).
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

impl Local {
    fn engine(&self) -> Result<Engine, String> {
        let settings = config::load(&[]).map_err(|e| e.to_string())?.settings;
        let dir = self.state_dir.clone().unwrap_or_else(|| settings.state_dir.clone());
        let stores = Stores::open(&dir, DEFAULT_MAP_SIZE).map_err(|e| e.to_string())?;
        Ok(Engine::configured(stores, &settings))
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Auto,
    OpenaiChat,
    OpenaiResponses,
    Anthropic,
}

impl From<Format> for ProviderFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Auto => ProviderFormat::Auto,
            Format::OpenaiChat => ProviderFormat::OpenAiChat,
            Format::OpenaiResponses => ProviderFormat::OpenAiResponses,
            Format::Anthropic => ProviderFormat::Anthropic,
        }
    }
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> ExitCode {
    crate::log::init("headroom");
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    };
    crate::log::flush();
    code
}

fn daemon<T>(socket: PathBuf, call: impl AsyncFnOnce(&mut Client) -> Result<T, ClientError>) -> Result<T, String> {
    crate::client::blocking(&socket, call).map_err(|e| match e {
        ClientError::Io(io) => format!("no daemon at {} ({io}); start `headroomd` or use --local", socket.display()),
        other => other.to_string(),
    })
}

fn run(cli: Cli) -> Result<(), String> {
    let socket = match cli.socket {
        Some(socket) => socket,
        None => config::client_socket().map_err(|e| e.to_string())?,
    };
    match cli.command {
        Command::Compress {
            file,
            local,
            model,
            format,
            query,
            protect_recent,
            frozen,
            target_ratio,
            compress_user_messages,
            memory,
            memory_tools,
            scope,
        } => {
            let input = read_input(file)?;
            let model = model.or_else(|| model_of(&input));
            let memory = memory.then(|| MemoryOptions { scope: scope.scope(), budget_tokens: 0, tools: memory_tools });
            let options = CompressOptions {
                model,
                format: format.into(),
                query,
                protect_recent,
                frozen,
                target_ratio,
                compress_user_messages,
                memory,
                client: Some("cli".into()),
            };
            let reply = if local.local {
                local.engine()?.compress(&input, &options).map_err(|e| format!("{}: {}", e.code.as_str(), e.message))?
            } else {
                daemon(socket, async |c: &mut Client| c.compress(input, options).await)?
            };
            std::io::stdout().write_all(&reply.messages).map_err(|e| e.to_string())?;
            log::info!("{}", summary(&reply));
            Ok(())
        }
        Command::Retrieve { key, query, local } => {
            let reply = if local.local {
                local.engine()?.retrieve(&key, query.as_deref(), now_ms()).map_err(|e| format!("{}: {}", e.code.as_str(), e.message))?
            } else {
                daemon(socket, async |c: &mut Client| c.retrieve(&key, query.as_deref()).await)?
            };
            print_retrieved(&reply)
        }
        Command::Stats { prometheus: true } => {
            let (s, m) = daemon(socket, async |c: &mut Client| Ok((c.stats().await?, c.metrics().await?)))?;
            print!("{}", crate::app::prometheus::render(&s, &m));
            Ok(())
        }
        Command::Savings { since, by, json, export } => {
            let report = savings::from_daemon(&socket, &since)?;
            let by = match by {
                SavingsBy::Model => "model",
                SavingsBy::Compressor => "compressor",
                SavingsBy::Client => "client",
            };
            match (json, export) {
                (true, _) | (_, Some(Export::Json)) => println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?),
                (_, Some(Export::Csv)) => print!("{}", savings::csv(&report)),
                _ => print!("{}", savings::text(&report, by)),
            }
            Ok(())
        }
        Command::Learn { agent, project, logs, target, apply, main_only, llm } => {
            let agent = match agent {
                LearnAgent::Claude => crate::learn::sessions::Agent::Claude,
                LearnAgent::Codex => crate::learn::sessions::Agent::Codex,
                LearnAgent::Gemini => crate::learn::sessions::Agent::Gemini,
            };
            let project = match project {
                Some(p) => p,
                None => std::env::current_dir().map_err(|e| format!("cannot tell the current directory: {e}"))?,
            };
            let endpoint = llm.then(crate::learn::llm::Endpoint::from_env);
            print!("{}", crate::learn::run(agent, &project, &logs, target, apply, main_only, endpoint.as_ref())?);
            Ok(())
        }
        Command::Dashboard { no_open, port } => crate::dashboard::serve(socket, port, !no_open),
        Command::Stats { prometheus: false } => {
            let (s, m) = daemon(socket, async |c: &mut Client| Ok((c.stats().await?, c.metrics().await?)))?;
            println!("protocol {}, up {:.1} s", s.protocol_version, s.uptime_ms as f64 / 1000.0);
            println!("connections {}, requests {}, compress requests {}", s.connections, s.requests, s.compress_requests);
            println!("tokens {} -> {} ({})", s.tokens_before, s.tokens_after, saved(s.tokens_before, s.tokens_after));
            for c in &m.compressors {
                println!("  {:<8} {} blocks, {} -> {} tokens ({})", c.name, c.blocks, c.tokens_before, c.tokens_after, saved(c.tokens_before, c.tokens_after));
            }
            if !m.left_as_is.is_empty() {
                println!("left as is (blocks of {}+ tokens), by reason:", headroom_protocol::LARGE_BLOCK_TOKENS);
                for c in &m.left_as_is {
                    println!("  {:<24} {} blocks, {} tokens", c.name, c.blocks, c.tokens_before);
                }
            }
            println!("compress latency p50 {} µs, p99 {} µs", m.latency_p50_us, m.latency_p99_us);
            println!("retrieves: {} found, {} not found, {} expired", m.ccr_hits, m.ccr_misses, m.ccr_expired);
            println!("stored originals {}, replay entries {}", s.ccr_entries, s.replay_entries);
            println!(
                "all time: {} compress requests, tokens {} -> {} ({}), latency p50 {} µs, p99 {} µs",
                m.all_time_compress_requests,
                m.all_time_tokens_before,
                m.all_time_tokens_after,
                saved(m.all_time_tokens_before, m.all_time_tokens_after),
                m.all_time_latency_p50_us,
                m.all_time_latency_p99_us
            );
            Ok(())
        }
        Command::Service { action } => {
            let dir = service::unit_dir();
            let report = match action {
                ServiceAction::Install => {
                    let settings = config::load(&[]).map_err(|e| e.to_string())?.settings;
                    service::install(&dir, &service::daemon_binary()?, &settings)?
                }
                ServiceAction::Uninstall => service::uninstall(&dir)?,
                ServiceAction::Status => service::status(&dir),
            };
            print!("{report}");
            Ok(())
        }
        Command::Config { action: ConfigAction::Show } => {
            print!("{}", config::load(&[]).map_err(|e| e.to_string())?.describe());
            Ok(())
        }
        Command::Doctor => {
            let checks = doctor::run();
            for c in &checks {
                let verdict = match c.verdict {
                    doctor::Verdict::Ok => "ok  ",
                    doctor::Verdict::Warn => "warn",
                    doctor::Verdict::Fail => "FAIL",
                };
                println!("{verdict}  {:<17} {}", c.what, c.detail);
            }
            match checks.iter().filter(|c| c.verdict == doctor::Verdict::Fail).count() {
                0 => Ok(()),
                n => Err(format!("{n} check(s) failed")),
            }
        }
        Command::Memory { command } => memory(socket, command),
        Command::Mcp { command } => crate::mcp::run(command, socket),
        Command::Wrap { agent, args } => Err(crate::wrap::wrap(&agent, &args)),
        Command::Unwrap => {
            println!("{}", crate::wrap::unwrap());
            Ok(())
        }
        Command::SocketPath => {
            println!("{}", socket.display());
            Ok(())
        }
        Command::Ping => {
            let started = std::time::Instant::now();
            daemon(socket, async |c: &mut Client| c.ping().await)?;
            println!("pong in {:.2} ms (with connect and handshake)", started.elapsed().as_secs_f64() * 1000.0);
            Ok(())
        }
    }
}

fn read_input(file: Option<PathBuf>) -> Result<Vec<u8>, String> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => {
            let mut input = Vec::new();
            std::io::stdin().read_to_end(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(input)
        }
    }
}

/// The `model` of a request object, if the input is one.
fn model_of(input: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithModel {
        model: Option<String>,
    }
    serde_json::from_slice::<WithModel>(input).ok()?.model
}

fn saved(before: u64, after: u64) -> String {
    if before == 0 {
        return "nothing to compress".into();
    }
    format!("{:.1} % saved", 100.0 * (before - after.min(before)) as f64 / before as f64)
}

fn summary(reply: &CompressReply) -> String {
    let by: Vec<String> = reply.compressors.iter().map(|c| format!("{} ×{}", c.name, c.blocks)).collect();
    format!(
        "{} -> {} tokens ({}), {} marker(s){}{}",
        reply.tokens_before,
        reply.tokens_after,
        saved(reply.tokens_before, reply.tokens_after),
        reply.ccr_keys.len(),
        if by.is_empty() { String::new() } else { format!(" [{}]", by.join(", ")) },
        if reply.memories > 0 { format!(", {} remembered fact(s) added", reply.memories) } else { String::new() }
    )
}

fn print_retrieved(reply: &RetrieveReply) -> Result<(), String> {
    std::io::stdout().write_all(reply.content.as_bytes()).map_err(|e| e.to_string())
}
