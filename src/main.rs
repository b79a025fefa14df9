//! The `codepipeline-local` binary: flags, logging, serve until SIGINT/SIGTERM, then drain
//! in-flight requests, flush the store and exit 0.

use std::process::ExitCode;

use clap::Parser;
use codepipeline_local::config::LogFormat;
use codepipeline_local::wire::serve::serve;
use codepipeline_local::{app, AppState, Config};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: codepipeline_local::allocator::Allocator =
    codepipeline_local::allocator::Allocator;

/// Lines the log queue holds. tracing-appender's default, 128,000, is a queue whose slots it
/// writes at start: 4 MB resident for the process's life, a fifth of an idle server.
const LOG_LINES_QUEUED: usize = 8192;

/// Log lines go through a bounded queue to a writer thread, and are dropped when it is full: a
/// parent that pipes stderr and never reads it must not be able to stall request handling.
/// The returned guard writes out what is queued when it is dropped, at exit.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_LINES_QUEUED)
        .lossy(true)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only help a person at a terminal; in files and CI logs they are noise.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    guard
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(codepipeline_local::memory::on_worker_park)
        .on_thread_stop(codepipeline_local::memory::on_thread_stop)
        .thread_keep_alive(codepipeline_local::memory::BLOCKING_KEEP_ALIVE)
        .build();
    match runtime {
        Ok(runtime) => {
            codepipeline_local::memory::watch_runtime(runtime.handle().clone());
            runtime.block_on(run())
        }
        Err(e) => {
            eprintln!("codepipeline-local: cannot start the runtime: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> ExitCode {
    let config = Config::parse();
    let _log_guard = init_logging(config.log_format);
    let state = match AppState::open(&config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("codepipeline-local: {e}");
            return ExitCode::from(2);
        }
    };
    if config.run_builds {
        tracing::warn!("--run-builds: buildspecs and Commands actions from requests run as shell commands on this machine, as this user");
        if !codepipeline_local::wire::browser::hosts::is_loopback(&config.host) {
            eprintln!(
                "codepipeline-local: WARNING: --run-builds with --host {}: anyone who can reach this port can run commands on this machine",
                config.host
            );
        }
    }
    // Looked up, not run: start-up stays in milliseconds.
    let has_git = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join("git").is_file()));
    if !has_git {
        tracing::warn!("git is not installed: CodeCommit repositories and the git remotes (/v1/repos, /_git) need it");
    }
    if let Err(e) = state.start_background() {
        eprintln!("codepipeline-local: cannot resume executions: {e}");
        return ExitCode::from(2);
    }
    let listener = match tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "codepipeline-local: cannot listen on {}:{}: {e}",
                config.host, config.port
            );
            return ExitCode::from(2);
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(_) => format!("http://{}:{}", config.host, config.port),
    };
    // Parse CodePipeline's model now, off the request path, instead of in the first API call.
    // The other services' models wait for their first call: parsed, they cost memory that a
    // server only ever asked about pipelines would carry for nothing.
    std::thread::spawn(|| {
        codepipeline_local::wire::json::registry::codepipeline();
    });
    let console = match state.browser.control_token() {
        Some(token) => format!("{url}/_local/console/?token={token}"),
        None => format!("{url}/_local/console/"),
    };
    println!(
        "codepipeline-local ready on {url} (store: {}; console: {console})",
        state.store.describe()
    );
    serve(
        listener,
        app(state.clone()),
        config.header_read_timeout,
        async {
            shutdown_signal().await;
            state.closing.send_replace(true);
        },
    )
    .await;
    if let Err(e) = state.flush().await {
        eprintln!("codepipeline-local: final flush failed: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
