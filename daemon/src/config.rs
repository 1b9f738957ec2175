//! The daemon's settings and where each value came from.
//!
//! Every setting has a default, a key in `$XDG_CONFIG_HOME/headroom/config.toml` (or the file
//! `$HEADROOM_CONFIG` names), an environment variable and a `headroomd` flag; later ones win
//! (flag > environment > file > default). Unknown keys and bad values are errors naming the file
//! and line (or the variable) and the valid choices: the daemon refuses to start rather than
//! guess.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The daemon's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The Unix socket path (ignored when systemd passes a listening socket).
    pub socket: PathBuf,
    /// Directory of the LMDB environment.
    pub state_dir: PathBuf,
    /// Largest accepted frame body in bytes.
    pub max_frame: usize,
    /// CCR originals unused for this long expire.
    pub ccr_idle_expiry: Duration,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
    /// How long a peer may take to finish a frame it has started; a stalled one is closed.
    pub frame_timeout: Duration,
    /// The HTTP front (proxy and guardrail API); off unless enabled.
    pub http: HttpSettings,
    /// The models ([`crate::ml`]).
    pub ml: MlSettings,
    /// What the provider charges for cached and fresh input: when compaction pays
    /// (docs/compaction.md).
    pub cache_prices: CachePrices,
    /// Model prices added to or replacing the built-in list, for the savings report's money.
    pub prices: Vec<(String, Price)>,
    /// The most tokens one image may be billed; 0 leaves images at the provider's own downscale.
    pub image_max_tokens: u64,
    /// The Redis or Valkey URL a fleet of daemons shares its stores through; `None` keeps them
    /// in the local LMDB environment only.
    pub store: Option<String>,
    /// The longest a request waits on the shared store before it is served from LMDB alone.
    pub store_timeout: Duration,
}

impl Settings {
    /// Whether the daemon opens network sockets: for the HTTP front, or to reach a shared store
    /// over TCP (the service unit allows them only then).
    pub fn needs_network(&self) -> bool {
        self.http.enabled || self.store.as_deref().is_some_and(|url| url.starts_with("redis://") || url.starts_with("valkey://"))
    }
}

/// Input prices relative to the provider's base input price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CachePrices {
    /// A token read from the prompt cache.
    pub read: f64,
    /// A token written to the cache (or sent uncached).
    pub write: f64,
}

impl Default for CachePrices {
    /// Anthropic's prices: cache reads 0.1, five-minute cache writes 1.25. (OpenAI: 0.5 and 1.)
    fn default() -> Self {
        CachePrices { read: 0.1, write: 1.25 }
    }
}

/// Where the models are and how much a request may spend on them ([`crate::ml`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MlSettings {
    /// Holds `libonnxruntime.so`, `minilm-int8.onnx` and `minilm-tokenizer.json` (what
    /// `ml/fetch.sh` installs).
    pub models_dir: PathBuf,
    /// The ONNX Runtime library, when it is not `models_dir/libonnxruntime.so`.
    pub onnxruntime: Option<PathBuf>,
    /// A token-classification ONNX model (LLMLingua-2 / Kompress style) and its tokenizer.json.
    pub classifier_model: Option<PathBuf>,
    pub classifier_tokenizer: Option<PathBuf>,
    /// Tokens of model input one request may spend (0 turns models off). The default keeps a
    /// request's added time near 50 ms on two cores.
    pub budget_tokens: usize,
}

impl MlSettings {
    /// The ONNX Runtime library to load.
    pub fn onnxruntime(&self) -> PathBuf {
        self.onnxruntime.clone().unwrap_or_else(|| self.models_dir.join("libonnxruntime.so"))
    }
}

impl Default for MlSettings {
    fn default() -> Self {
        MlSettings {
            models_dir: env_dir("XDG_DATA_HOME").unwrap_or_else(|| home().join(".local/share")).join("headroom/models"),
            onnxruntime: None,
            classifier_model: None,
            classifier_tokenizer: None,
            budget_tokens: 320,
        }
    }
}

/// Settings of the HTTP front ([`crate::http`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Serve HTTP at all (on 127.0.0.1 only).
    pub enabled: bool,
    /// The TCP port on 127.0.0.1; 0 lets the system pick one (tests).
    pub port: u16,
    /// Where OpenAI routes go, in the `OPENAI_BASE_URL` convention (with `/v1`).
    pub openai_upstream: String,
    /// Where Anthropic routes go, in the `ANTHROPIC_BASE_URL` convention (without `/v1`).
    pub anthropic_upstream: String,
    /// Compress proxied requests (off: forward them byte for byte).
    pub compress: bool,
    /// Opt-in cache-friendly shaping of proxied requests ([`crate::http::shaping`]).
    pub shaping: bool,
    /// How long the upstream may take to answer, and to send each next chunk of a stream.
    pub upstream_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            enabled: false,
            port: 8787,
            openai_upstream: "https://api.openai.com/v1".into(),
            anthropic_upstream: "https://api.anthropic.com".into(),
            compress: true,
            shaping: false,
            upstream_timeout: Duration::from_secs(600),
        }
    }
}

/// What a model costs per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

/// Parses the `prices` setting: `model=input/output/cache_read/cache_write` entries, in USD per
/// million tokens, separated by `;` (`my-model=1/4/0.1/1.25; gpt-4o=2.5/10/1.25/2.5`).
pub fn parse_prices(text: &str) -> Result<Vec<(String, Price)>, String> {
    let mut prices = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (model, numbers) = entry.split_once('=').ok_or_else(|| format!("{entry:?} has no `=`"))?;
        let numbers: Vec<f64> = numbers
            .split('/')
            .map(|n| n.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{entry:?}: prices are four numbers, input/output/cache_read/cache_write"))?;
        let [input, output, cache_read, cache_write] = numbers[..] else {
            return Err(format!("{entry:?}: prices are four numbers, input/output/cache_read/cache_write"));
        };
        if model.trim().is_empty() {
            return Err(format!("{entry:?} names no model"));
        }
        prices.push((model.trim().to_string(), Price { input, output, cache_read, cache_write }));
    }
    Ok(prices)
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Default,
    File { path: PathBuf, line: usize },
    Env(&'static str),
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env(name) => write!(f, "environment {name}"),
            Origin::Flag => f.write_str("command-line flag"),
        }
    }
}

/// A setting that could not be accepted, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What a setting holds, for parsing and for the messages on bad values.
#[derive(Clone, Copy)]
enum Kind {
    Path,
    Integer { min: u64, max: u64 },
    /// A price multiplier: a number from 0 to 10.
    Price,
    Bool,
    Url,
    /// `model=input/output/cache_read/cache_write` entries separated by `;`.
    Prices,
    /// `lmdb`, or the URL of a Redis or Valkey server.
    Store,
}

/// A value that passed its setting's validation.
enum Value {
    Path(PathBuf),
    Integer(u64),
    Price(f64),
    Bool(bool),
    Url(String),
    Prices(Vec<(String, Price)>),
    /// `None` for `lmdb`.
    Store(Option<String>),
}

impl Value {
    fn path(self) -> PathBuf {
        match self {
            Value::Path(p) => p,
            _ => unreachable!("a path setting holds a path"),
        }
    }
    fn integer(self) -> u64 {
        match self {
            Value::Integer(n) => n,
            _ => unreachable!("an integer setting holds an integer"),
        }
    }
    fn price(self) -> f64 {
        match self {
            Value::Price(x) => x,
            _ => unreachable!("a price setting holds a number"),
        }
    }
    fn bool(self) -> bool {
        match self {
            Value::Bool(b) => b,
            _ => unreachable!("a switch holds true or false"),
        }
    }
    fn url(self) -> String {
        match self {
            Value::Url(u) => u,
            _ => unreachable!("an upstream holds a URL"),
        }
    }
    fn prices(self) -> Vec<(String, Price)> {
        match self {
            Value::Prices(p) => p,
            _ => unreachable!("the price list holds prices"),
        }
    }
    fn store(self) -> Option<String> {
        match self {
            Value::Store(url) => url,
            _ => unreachable!("the store setting holds a store"),
        }
    }
}

/// One setting, declared once: its config.toml key (the flag is `--` and the key with dashes),
/// environment variable, kind and bounds, what it does, its default as documented, where its
/// value goes in [`Settings`] and how `headroom config show` prints it. `headroomd`'s flags, `config
/// show` and the README's settings table all come from these rows.
pub struct Spec {
    pub key: &'static str,
    pub env: &'static str,
    kind: Kind,
    pub doc: &'static str,
    /// The default in words; for settings that do not depend on the environment a test checks
    /// it against [`Settings::default`].
    pub default: &'static str,
    set: fn(&mut Settings, Value),
    show: fn(&Settings) -> String,
}

impl Spec {
    /// The command-line flag, e.g. `--http-port`.
    pub fn flag(&self) -> String {
        format!("--{}", self.key.replace('_', "-"))
    }

    /// A switch: `--http` alone means `--http true`.
    pub fn is_switch(&self) -> bool {
        matches!(self.kind, Kind::Bool)
    }
}

fn quoted(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn optional(path: &Option<PathBuf>) -> String {
    path.as_deref().map_or("(none)".to_string(), quoted)
}

const fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// Every setting, in the order `config show` and the README list them.
pub const SPECS: &[Spec] = &[
    Spec { key: "socket", env: "HEADROOM_SOCKET", kind: Kind::Path,
        doc: "The Unix socket path (ignored when systemd passes a listening socket).",
        default: "$XDG_RUNTIME_DIR/headroom/headroomd.sock",
        set: |s, v| s.socket = v.path(), show: |s| quoted(&s.socket) },
    Spec { key: "state_dir", env: "HEADROOM_STATE_DIR", kind: Kind::Path,
        doc: "Directory of the stores (originals, replay cache, memory, metrics).",
        default: "$XDG_STATE_HOME/headroom",
        set: |s, v| s.state_dir = v.path(), show: |s| quoted(&s.state_dir) },
    Spec { key: "max_frame", env: "HEADROOM_MAX_FRAME", kind: Kind::Integer { min: 1024, max: 1 << 30 },
        doc: "Largest request frame in bytes.", default: "67108864",
        set: |s, v| s.max_frame = v.integer() as usize, show: |s| s.max_frame.to_string() },
    Spec { key: "ccr_expiry_days", env: "HEADROOM_CCR_EXPIRY_DAYS", kind: Kind::Integer { min: 1, max: 3650 },
        doc: "Days an unused original stays retrievable.", default: "7",
        set: |s, v| s.ccr_idle_expiry = days(v.integer()), show: |s| (s.ccr_idle_expiry.as_secs() / 86_400).to_string() },
    Spec { key: "drain_timeout_secs", env: "HEADROOM_DRAIN_TIMEOUT_SECS", kind: Kind::Integer { min: 1, max: 3600 },
        doc: "Seconds shutdown waits for in-flight requests.", default: "30",
        set: |s, v| s.drain_timeout = Duration::from_secs(v.integer()), show: |s| s.drain_timeout.as_secs().to_string() },
    Spec { key: "frame_timeout_secs", env: "HEADROOM_FRAME_TIMEOUT_SECS", kind: Kind::Integer { min: 1, max: 3600 },
        doc: "Seconds a peer may take to finish a frame it started.", default: "30",
        set: |s, v| s.frame_timeout = Duration::from_secs(v.integer()), show: |s| s.frame_timeout.as_secs().to_string() },
    Spec { key: "http", env: "HEADROOM_HTTP", kind: Kind::Bool,
        doc: "Serve the HTTP front (proxy, guardrail API) on 127.0.0.1.", default: "false",
        set: |s, v| s.http.enabled = v.bool(), show: |s| s.http.enabled.to_string() },
    Spec { key: "http_port", env: "HEADROOM_HTTP_PORT", kind: Kind::Integer { min: 0, max: 65535 },
        doc: "Port of the HTTP front.", default: "8787",
        set: |s, v| s.http.port = v.integer() as u16, show: |s| s.http.port.to_string() },
    Spec { key: "openai_upstream", env: "HEADROOM_OPENAI_UPSTREAM", kind: Kind::Url,
        doc: "Where the front sends OpenAI routes, with /v1.", default: "https://api.openai.com/v1",
        set: |s, v| s.http.openai_upstream = v.url(), show: |s| format!("{:?}", s.http.openai_upstream) },
    Spec { key: "anthropic_upstream", env: "HEADROOM_ANTHROPIC_UPSTREAM", kind: Kind::Url,
        doc: "Where the front sends Anthropic routes.", default: "https://api.anthropic.com",
        set: |s, v| s.http.anthropic_upstream = v.url(), show: |s| format!("{:?}", s.http.anthropic_upstream) },
    Spec { key: "http_compress", env: "HEADROOM_HTTP_COMPRESS", kind: Kind::Bool,
        doc: "Compress proxied requests (off: forward them byte for byte).", default: "true",
        set: |s, v| s.http.compress = v.bool(), show: |s| s.http.compress.to_string() },
    Spec { key: "shaping", env: "HEADROOM_SHAPING", kind: Kind::Bool,
        doc: "Cache-friendly shaping of proxied requests.", default: "false",
        set: |s, v| s.http.shaping = v.bool(), show: |s| s.http.shaping.to_string() },
    Spec { key: "upstream_timeout_secs", env: "HEADROOM_UPSTREAM_TIMEOUT_SECS", kind: Kind::Integer { min: 1, max: 3600 },
        doc: "Seconds the upstream may take to answer, and to send each next chunk of a stream.", default: "600",
        set: |s, v| s.http.upstream_timeout = Duration::from_secs(v.integer()), show: |s| s.http.upstream_timeout.as_secs().to_string() },
    Spec { key: "models_dir", env: "HEADROOM_MODELS_DIR", kind: Kind::Path,
        doc: "Where ml/fetch.sh put ONNX Runtime, MiniLM and its tokenizer.", default: "$XDG_DATA_HOME/headroom/models",
        set: |s, v| s.ml.models_dir = v.path(), show: |s| quoted(&s.ml.models_dir) },
    Spec { key: "onnxruntime", env: "HEADROOM_ONNXRUNTIME", kind: Kind::Path,
        doc: "The ONNX Runtime library, when not in models_dir.", default: "models_dir/libonnxruntime.so",
        set: |s, v| s.ml.onnxruntime = Some(v.path()), show: |s| quoted(&s.ml.onnxruntime()) },
    Spec { key: "classifier_model", env: "HEADROOM_CLASSIFIER_MODEL", kind: Kind::Path,
        doc: "A token-classification ONNX model (LLMLingua-2 style) for prose.", default: "(none)",
        set: |s, v| s.ml.classifier_model = Some(v.path()), show: |s| optional(&s.ml.classifier_model) },
    Spec { key: "classifier_tokenizer", env: "HEADROOM_CLASSIFIER_TOKENIZER", kind: Kind::Path,
        doc: "The classifier's tokenizer.json.", default: "(none)",
        set: |s, v| s.ml.classifier_tokenizer = Some(v.path()), show: |s| optional(&s.ml.classifier_tokenizer) },
    Spec { key: "ml_budget_tokens", env: "HEADROOM_ML_BUDGET_TOKENS", kind: Kind::Integer { min: 0, max: 1 << 20 },
        doc: "Tokens of model input one request may spend; 0 turns the models off.", default: "320",
        set: |s, v| s.ml.budget_tokens = v.integer() as usize, show: |s| s.ml.budget_tokens.to_string() },
    Spec { key: "cache_read_price", env: "HEADROOM_CACHE_READ_PRICE", kind: Kind::Price,
        doc: "Price of a cached input token, relative to base input (OpenAI: 0.5).", default: "0.1",
        set: |s, v| s.cache_prices.read = v.price(), show: |s| s.cache_prices.read.to_string() },
    Spec { key: "cache_write_price", env: "HEADROOM_CACHE_WRITE_PRICE", kind: Kind::Price,
        doc: "Price of an input token written to the cache or sent uncached (OpenAI: 1).", default: "1.25",
        set: |s, v| s.cache_prices.write = v.price(), show: |s| s.cache_prices.write.to_string() },
    Spec { key: "prices", env: "HEADROOM_PRICES", kind: Kind::Prices,
        doc: "Model prices in USD per million tokens for `headroom savings`, over the built-in list: `model=input/output/cache_read/cache_write; …`.",
        default: "(built in)",
        set: |s, v| s.prices = v.prices(), show: |s| show_prices(&s.prices) },
    Spec { key: "image_max_tokens", env: "HEADROOM_IMAGE_MAX_TOKENS", kind: Kind::Integer { min: 0, max: 100_000 },
        doc: "Most tokens one image may be billed, shrinking it below the provider's own downscale; 0 keeps what the provider would show.",
        default: "0",
        set: |s, v| s.image_max_tokens = v.integer(), show: |s| s.image_max_tokens.to_string() },
    Spec { key: "store", env: "HEADROOM_STORE", kind: Kind::Store,
        doc: "`lmdb`, or a `redis://`, `valkey://` or `unix://` URL that a fleet of daemons shares originals, replay entries and memory through (LMDB stays the local copy and fallback).",
        default: "lmdb",
        set: |s, v| s.store = v.store(), show: |s| s.store.as_deref().map_or("lmdb".into(), |url| format!("{:?}", redacted_url(url))) },
    Spec { key: "store_timeout_ms", env: "HEADROOM_STORE_TIMEOUT_MS", kind: Kind::Integer { min: 1, max: 60_000 },
        doc: "Milliseconds a request waits on the shared store before it is served from LMDB alone.", default: "50",
        set: |s, v| s.store_timeout = Duration::from_millis(v.integer()), show: |s| s.store_timeout.as_millis().to_string() },
];

/// `url` with its password, if any, replaced by `***`, for messages and `config show`.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The `prices` setting as written, or `(built in)` when nothing is added.
fn show_prices(prices: &[(String, Price)]) -> String {
    if prices.is_empty() {
        return "(built in)".into();
    }
    let entries: Vec<String> =
        prices.iter().map(|(m, p)| format!("{m}={}/{}/{}/{}", p.input, p.output, p.cache_read, p.cache_write)).collect();
    format!("{:?}", entries.join("; "))
}

/// The README's settings table: one line per row of [`SPECS`].
pub fn markdown_table() -> String {
    let mut table = String::from("| setting | environment | flag | default | what it does |\n|---|---|---|---|---|\n");
    for spec in SPECS {
        table.push_str(&format!("| `{}` | `{}` | `{}` | `{}` | {} |\n", spec.key, spec.env, spec.flag(), spec.default, spec.doc));
    }
    table
}

/// A value as read from any source, before it is applied.
enum Raw {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

/// Settings with the origin of each value.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    /// Origin per setting key, in key order.
    pub origins: BTreeMap<&'static str, Origin>,
}

impl Loaded {
    /// `key = value  # origin` lines, for `headroom config show`.
    pub fn describe(&self) -> String {
        SPECS.iter().map(|spec| format!("{} = {}  # {}\n", spec.key, (spec.show)(&self.settings), self.origins[spec.key])).collect()
    }
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn home() -> PathBuf {
    env_dir("HOME").unwrap_or_else(|| PathBuf::from("/"))
}

/// `$XDG_RUNTIME_DIR/headroom/headroomd.sock`, else `/tmp/headroom-$UID/headroomd.sock`.
fn default_socket() -> PathBuf {
    let dir = match env_dir("XDG_RUNTIME_DIR") {
        Some(runtime) => runtime.join("headroom"),
        None => PathBuf::from(format!("/tmp/headroom-{}", nix::unistd::getuid())),
    };
    dir.join("headroomd.sock")
}

/// `$XDG_STATE_HOME/headroom`, else `~/.local/state/headroom`.
fn default_state_dir() -> PathBuf {
    env_dir("XDG_STATE_HOME").unwrap_or_else(|| home().join(".local/state")).join("headroom")
}

/// `$HEADROOM_CONFIG`, else `$XDG_CONFIG_HOME/headroom/config.toml`, else
/// `~/.config/headroom/config.toml`.
pub fn config_path() -> PathBuf {
    env_dir("HEADROOM_CONFIG")
        .unwrap_or_else(|| env_dir("XDG_CONFIG_HOME").unwrap_or_else(|| home().join(".config")).join("headroom/config.toml"))
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            socket: default_socket(),
            state_dir: default_state_dir(),
            max_frame: headroom_protocol::DEFAULT_MAX_FRAME,
            ccr_idle_expiry: Duration::from_secs(7 * 86_400),
            drain_timeout: Duration::from_secs(30),
            frame_timeout: Duration::from_secs(30),
            http: HttpSettings::default(),
            ml: MlSettings::default(),
            cache_prices: CachePrices::default(),
            prices: Vec::new(),
            image_max_tokens: 0,
            store: None,
            store_timeout: Duration::from_millis(50),
        }
    }
}

/// The socket the CLI talks to: the same file > environment > default rule as the daemon, so
/// both sides agree without flags.
pub fn client_socket() -> Result<PathBuf, ConfigError> {
    Ok(load(&[])?.settings.socket)
}

/// Resolves every setting from defaults, the config file, the environment and `flags`
/// (`(key, value)` pairs from the command line).
pub fn load(flags: &[(&'static str, String)]) -> Result<Loaded, ConfigError> {
    let path = config_path();
    let file = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(ConfigError(format!("{}: cannot read: {e}", path.display()))),
    };
    let env: Vec<(&'static str, String)> =
        SPECS.iter().filter_map(|s| std::env::var(s.env).ok().filter(|v| !v.is_empty()).map(|v| (s.env, v))).collect();
    resolve(&path, file.as_deref(), &env, flags)
}

/// [`load`] with its inputs given, so every source can be tested.
pub fn resolve(
    path: &Path,
    file: Option<&str>,
    env: &[(&'static str, String)],
    flags: &[(&'static str, String)],
) -> Result<Loaded, ConfigError> {
    let mut loaded = Loaded {
        settings: Settings::default(),
        origins: SPECS.iter().map(|s| (s.key, Origin::Default)).collect(),
    };
    if let Some(text) = file {
        for (key, raw, line) in read_file(path, text)? {
            let spec = SPECS.iter().find(|s| s.key == key).expect("read_file checks keys");
            apply(&mut loaded, spec, raw, Origin::File { path: path.to_path_buf(), line }, &format!("{}:{line}", path.display()))?;
        }
    }
    for (name, value) in env {
        let spec = SPECS.iter().find(|s| s.env == *name).expect("only known variables are read");
        apply(&mut loaded, spec, Raw::Text(value.clone()), Origin::Env(spec.env), spec.env)?;
    }
    for (key, value) in flags {
        let spec = SPECS.iter().find(|s| s.key == *key).ok_or_else(|| ConfigError(format!("unknown setting {key}")))?;
        apply(&mut loaded, spec, Raw::Text(value.clone()), Origin::Flag, &format!("--{}", key.replace('_', "-")))?;
    }
    Ok(loaded)
}

fn valid_keys() -> String {
    SPECS.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
}

/// The file's `key = value` pairs with their line numbers; unknown keys, tables and values of
/// the wrong type are errors.
fn read_file(path: &Path, text: &str) -> Result<Vec<(String, Raw, usize)>, ConfigError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let table = toml::de::DeTable::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        ConfigError(format!("{}:{line}: not valid TOML: {}", path.display(), e.message()))
    })?;
    let mut out = Vec::new();
    for (key, value) in table.get_ref() {
        let line = line_of(key.span().start);
        let name = key.get_ref().to_string();
        let Some(spec) = SPECS.iter().find(|s| s.key == name) else {
            return Err(ConfigError(format!("{}:{line}: unknown key `{name}`; valid keys: {}", path.display(), valid_keys())));
        };
        let raw = match (value.get_ref(), spec.kind) {
            (toml::de::DeValue::String(s), _) => Raw::Text(s.to_string()),
            (toml::de::DeValue::Boolean(b), Kind::Bool) => Raw::Bool(*b),
            (toml::de::DeValue::Integer(i), Kind::Integer { .. } | Kind::Price) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Raw::Integer(n),
                Err(_) => Raw::Text(i.as_str().to_string()),
            },
            (toml::de::DeValue::Float(f), Kind::Price) => match f.as_str().parse::<f64>() {
                Ok(x) => Raw::Float(x),
                Err(_) => Raw::Text(f.as_str().to_string()),
            },
            (other, _) => {
                return Err(ConfigError(format!(
                    "{}:{line}: `{name}` must be {}, got a {}",
                    path.display(),
                    expectation(spec.kind),
                    other.type_str()
                )))
            }
        };
        out.push((name, raw, line));
    }
    Ok(out)
}

fn expectation(kind: Kind) -> String {
    match kind {
        Kind::Path => "a path (a string)".to_string(),
        Kind::Integer { min, max } => format!("an integer from {min} to {max}"),
        Kind::Price => "a number from 0 to 10".to_string(),
        Kind::Bool => "true or false".to_string(),
        Kind::Url => "an http:// or https:// URL".to_string(),
        Kind::Prices => "`model=input/output/cache_read/cache_write` entries separated by `;`".to_string(),
        Kind::Store => "`lmdb` or a redis://, valkey://, redis+unix://, valkey+unix:// or unix:// URL (no TLS: reach a remote server through a tunnel)".to_string(),
    }
}

/// Checks `raw` against the setting's kind and bounds and stores it.
fn apply(loaded: &mut Loaded, spec: &Spec, raw: Raw, origin: Origin, place: &str) -> Result<(), ConfigError> {
    let value = validate(spec, raw).map_err(|got| ConfigError(format!("{place}: `{}` must be {}, got {got:?}", spec.key, expectation(spec.kind))))?;
    (spec.set)(&mut loaded.settings, value);
    loaded.origins.insert(spec.key, origin);
    Ok(())
}

/// The value `raw` holds for `spec`, or what was given instead, for the error.
fn validate(spec: &Spec, raw: Raw) -> Result<Value, String> {
    match spec.kind {
        Kind::Path => {
            let Raw::Text(text) = raw else { return Err("an integer".into()) };
            if text.trim().is_empty() {
                return Err(text);
            }
            Ok(Value::Path(PathBuf::from(text)))
        }
        Kind::Integer { min, max } => {
            let n = match raw {
                Raw::Integer(n) => u64::try_from(n).map_err(|_| n.to_string())?,
                Raw::Text(text) => text.trim().parse::<u64>().map_err(|_| text)?,
                Raw::Bool(b) => return Err(b.to_string()),
                Raw::Float(x) => return Err(x.to_string()),
            };
            if n < min || n > max {
                return Err(n.to_string());
            }
            Ok(Value::Integer(n))
        }
        Kind::Bool => match raw {
            Raw::Bool(b) => Ok(Value::Bool(b)),
            Raw::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err(text),
            },
            Raw::Integer(n) => Err(n.to_string()),
            Raw::Float(x) => Err(x.to_string()),
        },
        Kind::Price => {
            let x = match raw {
                Raw::Float(x) => x,
                Raw::Integer(n) => n as f64,
                Raw::Text(text) => text.trim().parse::<f64>().map_err(|_| text)?,
                Raw::Bool(b) => return Err(b.to_string()),
            };
            if !(x.is_finite() && (0.0..=10.0).contains(&x)) {
                return Err(x.to_string());
            }
            Ok(Value::Price(x))
        }
        Kind::Url => {
            let Raw::Text(text) = raw else { return Err("not a string".into()) };
            let url = text.trim().trim_end_matches('/').to_string();
            let parsed = reqwest::Url::parse(&url).map_err(|_| text.clone())?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() || parsed.query().is_some() {
                return Err(text);
            }
            Ok(Value::Url(url))
        }
        Kind::Prices => {
            let Raw::Text(text) = raw else { return Err("not a string".into()) };
            parse_prices(&text).map(Value::Prices).map_err(|_| text)
        }
        Kind::Store => {
            let Raw::Text(text) = raw else { return Err("not a string".into()) };
            let trimmed = text.trim();
            if trimmed == "lmdb" {
                return Ok(Value::Store(None));
            }
            let parsed = reqwest::Url::parse(trimmed).map_err(|_| text.clone())?;
            let tcp = matches!(parsed.scheme(), "redis" | "valkey") && parsed.host_str().is_some();
            let unix = matches!(parsed.scheme(), "redis+unix" | "valkey+unix" | "unix") && !parsed.path().is_empty();
            if !(tcp || unix) {
                return Err(text);
            }
            Ok(Value::Store(Some(trimmed.to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> PathBuf {
        PathBuf::from("/home/u/.config/headroom/config.toml")
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
        let file = "# my settings\nmax_frame = 2048\nccr_expiry_days = 3\nstate_dir = \"/data/hr\"\n";
        let env = vec![("HEADROOM_CCR_EXPIRY_DAYS", "5".to_string()), ("HEADROOM_STATE_DIR", "/env/hr".to_string())];
        let flags = vec![("state_dir", "/flag/hr".to_string())];
        let loaded = resolve(&path(), Some(file), &env, &flags).unwrap();
        let s = &loaded.settings;
        assert_eq!(s.max_frame, 2048);
        assert_eq!(s.ccr_idle_expiry, Duration::from_secs(5 * 86_400));
        assert_eq!(s.state_dir, PathBuf::from("/flag/hr"));
        assert_eq!(s.drain_timeout, Duration::from_secs(30));
        assert_eq!(loaded.origins["max_frame"], Origin::File { path: path(), line: 2 });
        assert_eq!(loaded.origins["ccr_expiry_days"], Origin::Env("HEADROOM_CCR_EXPIRY_DAYS"));
        assert_eq!(loaded.origins["state_dir"], Origin::Flag);
        assert_eq!(loaded.origins["drain_timeout_secs"], Origin::Default);
        let shown = loaded.describe();
        assert!(shown.contains("max_frame = 2048  # /home/u/.config/headroom/config.toml:2"), "{shown}");
        assert!(shown.contains("state_dir = \"/flag/hr\"  # command-line flag"), "{shown}");
    }

    #[test]
    fn every_documented_default_is_the_default() {
        let defaults = Settings::default();
        for spec in SPECS.iter().filter(|s| !matches!(s.kind, Kind::Path)) {
            assert_eq!((spec.show)(&defaults).trim_matches('"'), spec.default, "{}", spec.key);
        }
        assert!(SPECS.iter().all(|s| s.env == format!("HEADROOM_{}", s.key.to_ascii_uppercase())), "env names follow the keys");
    }

    #[test]
    fn every_setting_reaches_its_own_field_and_no_other() {
        let shown = |settings: &Settings| SPECS.iter().map(|spec| (spec.show)(settings)).collect::<Vec<_>>();
        let defaults = shown(&Settings::default());
        for (i, spec) in SPECS.iter().enumerate() {
            let value = match spec.kind {
                Kind::Path => format!("/x/{}", spec.key),
                Kind::Integer { min, .. } => (min + 2).to_string(),
                Kind::Price => "2.5".into(),
                Kind::Bool => (spec.default == "false").to_string(),
                Kind::Url => format!("http://{}.test", spec.key.replace('_', "-")),
                Kind::Prices => "m=1/2/0.5/1.25".into(),
                Kind::Store => "redis://127.0.0.1:6399/".into(),
            };
            let loaded = resolve(&path(), None, &[], &[(spec.key, value.clone())]).unwrap();
            let now = shown(&loaded.settings);
            let changed: Vec<&str> = SPECS.iter().zip(now.iter().zip(&defaults)).filter(|(_, (a, b))| a != b).map(|(s, _)| s.key).collect();
            // The runtime library's default path follows the models directory.
            let expected = if spec.key == "models_dir" { vec!["models_dir", "onnxruntime"] } else { vec![spec.key] };
            assert_eq!(changed, expected, "setting {} changed {changed:?}", spec.key);
            assert_eq!(now[i].trim_matches('"'), value);
            assert_eq!(loaded.origins[spec.key], Origin::Flag);
        }
    }

    #[test]
    fn the_store_is_lmdb_or_a_redis_url_and_its_password_is_never_shown() {
        for bad in ["http://cache:6379", "rediss://cache:6379", "redis://", "postgres://db/x", "  "] {
            let err = resolve(&path(), Some(&format!("store = {bad:?}\n")), &[], &[]).unwrap_err();
            assert!(err.0.starts_with("/home/u/.config/headroom/config.toml:1: `store` must be `lmdb` or a redis://"), "{bad}: {}", err.0);
        }
        let lmdb = resolve(&path(), Some("store = \"lmdb\"\n"), &[], &[]).unwrap();
        assert_eq!(lmdb.settings.store, None);
        let env = vec![("HEADROOM_STORE", "redis://:hunter2@cache:6379/0".to_string())];
        let shared = resolve(&path(), None, &env, &[]).unwrap();
        assert_eq!(shared.settings.store.as_deref(), Some("redis://:hunter2@cache:6379/0"));
        let shown: Vec<String> = SPECS.iter().map(|spec| (spec.show)(&shared.settings)).collect();
        assert!(shown.iter().any(|v| v.contains("redis://:***@cache:6379/0")) && !shown.iter().any(|v| v.contains("hunter2")), "{shown:?}");
        let socket = resolve(&path(), None, &[], &[("store", "unix:///run/redis/redis.sock".to_string())]).unwrap();
        assert_eq!(socket.settings.store.as_deref(), Some("unix:///run/redis/redis.sock"));
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_valid_keys() {
        let err = resolve(&path(), Some("max_frame = 4096\nsokcet = \"/x\"\n"), &[], &[]).unwrap_err();
        assert_eq!(
            err.0,
            format!("/home/u/.config/headroom/config.toml:2: unknown key `sokcet`; valid keys: {}", SPECS.iter().map(|s| s.key).collect::<Vec<_>>().join(", "))
        );
        assert!(err.0.contains("valid keys: socket, state_dir, max_frame,"), "{}", err.0);
    }

    #[test]
    fn cache_prices_take_numbers_from_the_file_the_environment_and_flags() {
        let file = "cache_read_price = 0.5\ncache_write_price = 1\n";
        let loaded = resolve(&path(), Some(file), &[], &[]).unwrap();
        assert_eq!(loaded.settings.cache_prices, CachePrices { read: 0.5, write: 1.0 });
        let env = vec![("HEADROOM_CACHE_WRITE_PRICE", "2.5".to_string())];
        assert_eq!(resolve(&path(), Some(file), &env, &[]).unwrap().settings.cache_prices.write, 2.5);
        assert_eq!(resolve(&path(), None, &[], &[]).unwrap().settings.cache_prices, CachePrices { read: 0.1, write: 1.25 });
        let err = resolve(&path(), None, &[], &[("cache_read_price", "-1".into())]).unwrap_err();
        assert_eq!(err.0, "--cache-read-price: `cache_read_price` must be a number from 0 to 10, got \"-1\"");
        let err = resolve(&path(), Some("cache_write_price = \"cheap\"\n"), &[], &[]).unwrap_err();
        assert!(err.0.ends_with("must be a number from 0 to 10, got \"cheap\""), "{}", err.0);
    }

    #[test]
    fn bad_values_name_their_source_and_the_valid_range() {
        let err = resolve(&path(), Some("\nmax_frame = 10\n"), &[], &[]).unwrap_err();
        assert_eq!(err.0, "/home/u/.config/headroom/config.toml:2: `max_frame` must be an integer from 1024 to 1073741824, got \"10\"");
        let err = resolve(&path(), Some("ccr_expiry_days = true\n"), &[], &[]).unwrap_err();
        assert!(err.0.ends_with("`ccr_expiry_days` must be an integer from 1 to 3650, got a boolean"), "{}", err.0);
        let err = resolve(&path(), Some("socket = 3\n"), &[], &[]).unwrap_err();
        assert!(err.0.contains(":1: `socket` must be a path (a string), got a integer"), "{}", err.0);
        let err = resolve(&path(), None, &[("HEADROOM_MAX_FRAME", "lots".into())], &[]).unwrap_err();
        assert_eq!(err.0, "HEADROOM_MAX_FRAME: `max_frame` must be an integer from 1024 to 1073741824, got \"lots\"");
        let err = resolve(&path(), None, &[], &[("drain_timeout_secs", "0".into())]).unwrap_err();
        assert_eq!(err.0, "--drain-timeout-secs: `drain_timeout_secs` must be an integer from 1 to 3600, got \"0\"");
        let err = resolve(&path(), Some("[server]\nsocket = \"/x\"\n"), &[], &[]).unwrap_err();
        assert!(err.0.contains(":1: unknown key `server`"), "{}", err.0);
        let err = resolve(&path(), Some("max_frame = = 3\n"), &[], &[]).unwrap_err();
        assert!(err.0.starts_with("/home/u/.config/headroom/config.toml:1: not valid TOML"), "{}", err.0);
    }

    #[test]
    fn the_http_front_is_off_by_default_and_set_from_every_source() {
        let loaded = resolve(&path(), None, &[], &[]).unwrap();
        assert_eq!(loaded.settings.http, HttpSettings::default());
        assert!(!loaded.settings.http.enabled && !loaded.settings.http.shaping && loaded.settings.http.compress);
        let file = "http = true\nhttp_port = 9000\nanthropic_upstream = \"http://127.0.0.1:4000/\"\nshaping = true\n";
        let env = vec![("HEADROOM_HTTP_PORT", "9100".to_string()), ("HEADROOM_HTTP_COMPRESS", "off".to_string())];
        let flags = vec![("openai_upstream", "https://openrouter.ai/api/v1".to_string()), ("upstream_timeout_secs", "5".to_string())];
        let loaded = resolve(&path(), Some(file), &env, &flags).unwrap();
        let h = &loaded.settings.http;
        assert!(h.enabled && h.shaping && !h.compress);
        assert_eq!(h.port, 9100);
        assert_eq!(h.anthropic_upstream, "http://127.0.0.1:4000", "a trailing slash is dropped");
        assert_eq!(h.openai_upstream, "https://openrouter.ai/api/v1");
        assert_eq!(h.upstream_timeout, Duration::from_secs(5));
        assert_eq!(loaded.origins["http"], Origin::File { path: path(), line: 1 });
        assert_eq!(loaded.origins["http_port"], Origin::Env("HEADROOM_HTTP_PORT"));
        assert_eq!(loaded.origins["openai_upstream"], Origin::Flag);
        let shown = loaded.describe();
        assert!(shown.contains("http = true  # /home/u/.config/headroom/config.toml:1"), "{shown}");
        assert!(shown.contains("openai_upstream = \"https://openrouter.ai/api/v1\"  # command-line flag"), "{shown}");
        assert!(shown.contains("http_compress = false  # environment HEADROOM_HTTP_COMPRESS"), "{shown}");
    }

    #[test]
    fn bad_http_values_name_their_source() {
        let err = resolve(&path(), Some("http = \"maybe\"\n"), &[], &[]).unwrap_err();
        assert_eq!(err.0, "/home/u/.config/headroom/config.toml:1: `http` must be true or false, got \"maybe\"");
        let err = resolve(&path(), Some("\nshaping = 1\n"), &[], &[]).unwrap_err();
        assert!(err.0.ends_with(":2: `shaping` must be true or false, got a integer"), "{}", err.0);
        let err = resolve(&path(), None, &[("HEADROOM_HTTP_PORT", "70000".into())], &[]).unwrap_err();
        assert_eq!(err.0, "HEADROOM_HTTP_PORT: `http_port` must be an integer from 0 to 65535, got \"70000\"");
        let err = resolve(&path(), None, &[("HEADROOM_OPENAI_UPSTREAM", "api.openai.com".into())], &[]).unwrap_err();
        assert_eq!(err.0, "HEADROOM_OPENAI_UPSTREAM: `openai_upstream` must be an http:// or https:// URL, got \"api.openai.com\"");
        let err = resolve(&path(), None, &[], &[("anthropic_upstream", "ftp://x".into())]).unwrap_err();
        assert!(err.0.starts_with("--anthropic-upstream: `anthropic_upstream` must be an http:// or https:// URL"), "{}", err.0);
        let err = resolve(&path(), Some("openai_upstream = true\n"), &[], &[]).unwrap_err();
        assert!(err.0.ends_with("`openai_upstream` must be an http:// or https:// URL, got a boolean"), "{}", err.0);
    }
}
