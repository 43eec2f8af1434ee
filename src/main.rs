//! The `danang-sso` command: serve (the default), check a config, hash a client secret.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use danang_sso::config::Config;

#[derive(Parser)]
#[command(name = "danang-sso", version, about = "Single sign-on for Đà Nẵng city's government mailboxes")]
struct Cli {
    /// TOML config file; without it, the embedded defaults (demo directory, memory store, demo clients).
    #[arg(long, global = true, env = "DANANG_SSO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Validate the config and print each problem with its key.
    CheckConfig,
    /// Print an argon2 hash of a client secret for `client_secret_hash` (reads stdin when no argument).
    HashSecret { secret: Option<String> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config),
        Command::CheckConfig => check_config(cli.config),
        Command::HashSecret { secret } => hash_secret(secret),
    }
}

fn load(config: Option<PathBuf>) -> Result<Config, ExitCode> {
    Config::load(config.as_deref()).map_err(|e| {
        eprintln!("danang-sso: {e}");
        ExitCode::from(2)
    })
}

fn serve(config: Option<PathBuf>) -> ExitCode {
    // rustls (LDAPS, rediss://) takes the process-wide provider; installing aws-lc-rs explicitly keeps it working
    // even if a dependency someday enables a second provider. An `Err` only means one is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("danang-sso: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listen = config.server.listen.clone();
        let app = match danang_sso::build(config).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                return ExitCode::from(2);
            }
        };
        let listener = match tokio::net::TcpListener::bind(&listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("danang-sso: cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(%listen, issuer = %app.provider.issuer, "danang-sso is serving");
        match danang_sso::run(listener, app, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn check_config(config: Option<PathBuf>) -> ExitCode {
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let problems = config.problems();
    if problems.is_empty() {
        println!(
            "config OK: {} client(s), directory {:?}, store {:?}",
            config.clients.len(),
            config.directory.kind,
            config.store.kind
        );
        return ExitCode::SUCCESS;
    }
    for p in &problems {
        eprintln!("{p}");
    }
    ExitCode::from(2)
}

fn hash_secret(secret: Option<String>) -> ExitCode {
    let secret = secret.unwrap_or_else(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        line.trim_end_matches(['\r', '\n']).to_owned()
    });
    if secret.is_empty() {
        eprintln!("danang-sso: give the secret as an argument or on standard input");
        return ExitCode::from(2);
    }
    match danang_sso::oidc::clients::hash_secret(&secret) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("danang-sso: {e}");
            ExitCode::FAILURE
        }
    }
}
