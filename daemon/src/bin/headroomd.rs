//! `headroomd`: the per-user daemon.

use clap::Parser;
use std::process::ExitCode;

/// The Headroom daemon: serves compression over a Unix socket. Every flag overrides the
/// environment variable and the config.toml key of the same name (`headroom config show`).
#[derive(Parser)]
#[command(name = "headroomd", version)]
struct Args {
    /// Socket path [env HEADROOM_SOCKET; default $XDG_RUNTIME_DIR/headroom/headroomd.sock].
    #[arg(long)]
    socket: Option<String>,
    /// State directory for the stores [env HEADROOM_STATE_DIR; default $XDG_STATE_HOME/headroom].
    #[arg(long)]
    state_dir: Option<String>,
    /// Largest request frame in bytes [env HEADROOM_MAX_FRAME; default 64 MiB].
    #[arg(long)]
    max_frame: Option<String>,
    /// Days an unused original stays retrievable [env HEADROOM_CCR_EXPIRY_DAYS; default 7].
    #[arg(long)]
    ccr_expiry_days: Option<String>,
    /// Seconds shutdown waits for in-flight requests [env HEADROOM_DRAIN_TIMEOUT_SECS; default 30].
    #[arg(long)]
    drain_timeout_secs: Option<String>,
    /// Seconds a peer may take to finish a frame it started [env HEADROOM_FRAME_TIMEOUT_SECS; default 30].
    #[arg(long)]
    frame_timeout_secs: Option<String>,
    /// Serve the HTTP front (proxy, guardrail API) on 127.0.0.1 [env HEADROOM_HTTP; default false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    http: Option<String>,
    /// Port of the HTTP front [env HEADROOM_HTTP_PORT; default 8787].
    #[arg(long)]
    http_port: Option<String>,
    /// OpenAI upstream, with /v1 [env HEADROOM_OPENAI_UPSTREAM; default https://api.openai.com/v1].
    #[arg(long)]
    openai_upstream: Option<String>,
    /// Anthropic upstream [env HEADROOM_ANTHROPIC_UPSTREAM; default https://api.anthropic.com].
    #[arg(long)]
    anthropic_upstream: Option<String>,
    /// Compress proxied requests [env HEADROOM_HTTP_COMPRESS; default true].
    #[arg(long, value_name = "BOOL")]
    http_compress: Option<String>,
    /// Cache-friendly request shaping [env HEADROOM_SHAPING; default false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    shaping: Option<String>,
    /// Seconds the upstream may take to answer or between stream chunks [env HEADROOM_UPSTREAM_TIMEOUT_SECS; default 600].
    #[arg(long)]
    upstream_timeout_secs: Option<String>,
    /// Directory of the ONNX Runtime library and the MiniLM model [env HEADROOM_MODELS_DIR; default $XDG_DATA_HOME/headroom/models].
    #[arg(long)]
    models_dir: Option<String>,
    /// The ONNX Runtime library [env HEADROOM_ONNXRUNTIME; default <models-dir>/libonnxruntime.so].
    #[arg(long)]
    onnxruntime: Option<String>,
    /// A token-classification ONNX model [env HEADROOM_CLASSIFIER_MODEL; default none].
    #[arg(long)]
    classifier_model: Option<String>,
    /// The classifier's tokenizer.json [env HEADROOM_CLASSIFIER_TOKENIZER; default none].
    #[arg(long)]
    classifier_tokenizer: Option<String>,
    /// Tokens of model input per request, 0 for no models [env HEADROOM_ML_BUDGET_TOKENS; default 320].
    #[arg(long)]
    ml_budget_tokens: Option<String>,
    /// Price of a cached input token, relative to base input [env HEADROOM_CACHE_READ_PRICE; default 0.1].
    #[arg(long)]
    cache_read_price: Option<String>,
    /// Price of an input token written to the cache or sent uncached [env HEADROOM_CACHE_WRITE_PRICE; default 1.25].
    #[arg(long)]
    cache_write_price: Option<String>,
}

fn main() -> ExitCode {
    // Started by a daemon to read its store before mapping it (see store::check).
    if let Some(dir) = std::env::var_os(headroom_daemon::store::check::CHECK_ENV) {
        return match headroom_daemon::store::check::walk(std::path::Path::new(&dir)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                headroom_daemon::log_line!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = Args::parse();
    let flags: Vec<(&'static str, String)> = [
        ("socket", args.socket),
        ("state_dir", args.state_dir),
        ("max_frame", args.max_frame),
        ("ccr_expiry_days", args.ccr_expiry_days),
        ("drain_timeout_secs", args.drain_timeout_secs),
        ("frame_timeout_secs", args.frame_timeout_secs),
        ("http", args.http),
        ("http_port", args.http_port),
        ("openai_upstream", args.openai_upstream),
        ("anthropic_upstream", args.anthropic_upstream),
        ("http_compress", args.http_compress),
        ("shaping", args.shaping),
        ("upstream_timeout_secs", args.upstream_timeout_secs),
        ("models_dir", args.models_dir),
        ("onnxruntime", args.onnxruntime),
        ("classifier_model", args.classifier_model),
        ("classifier_tokenizer", args.classifier_tokenizer),
        ("ml_budget_tokens", args.ml_budget_tokens),
        ("cache_read_price", args.cache_read_price),
        ("cache_write_price", args.cache_write_price),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key, v)))
    .collect();
    let settings = match headroom_daemon::config::load(&flags) {
        Ok(loaded) => loaded.settings,
        Err(e) => {
            headroom_daemon::log_line!("headroomd: refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A full disk or file-size limit must fail the write (and turn the stores volatile), not
    // kill the daemon with SIGXFSZ.
    // SAFETY: setting a signal to ignored installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGXFSZ, nix::sys::signal::SigHandler::SigIgn) };
    // glibc gives threads that allocate at the same time arenas of their own (up to 8 per core)
    // and keeps what they free: two arenas keep a burst of concurrent work from staying resident.
    // SAFETY: called before any other thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            headroom_daemon::log_line!("headroomd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(headroom_daemon::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            headroom_daemon::log_line!("headroomd: {e}");
            ExitCode::FAILURE
        }
    }
}
