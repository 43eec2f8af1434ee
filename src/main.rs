//! The `danang-sso` command: serve (the default), check a config, hash a client secret, manage keys and sessions,
//! register SAML service providers, and the city's rules (mailbox names, reports, re-activation; see
//! `danang_sso::report::commands`).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use danang_sso::config::Config;
use danang_sso::report::commands::{self, AccountsCommand, MailboxNameArgs, ReportCommand};
use danang_sso::tls::TlsCerts;

/// mimalloc rather than glibc's malloc: less CPU per request under concurrent load (see the README's
/// Performance section). The one static of the program: an allocator can only be declared as one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Serve HTTP or HTTPS (the default).
    Serve,
    /// Validate the config and print each problem with its key.
    CheckConfig,
    /// Print an argon2 hash of a client secret for `client_secret_hash` (reads stdin when no argument).
    HashSecret { secret: Option<String> },
    /// Manage the signing keys in `[keys] dir`.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Incident response: list or end an account's SSO sessions on every instance sharing the store.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Propose a mailbox by the city's naming rule (a person, a unit, or a CSV list of new staff).
    MailboxName(MailboxNameArgs),
    /// Reports: dormant accounts, usage per unit and per app.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Operator actions on an account: re-open a dormant mailbox.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// SAML 2.0: register service providers.
    #[command(subcommand)]
    Saml(SamlCommand),
    /// Second factors: list or reset an account's (a lost phone).
    #[command(subcommand)]
    Mfa(danang_sso::mfa::cli::MfaCommand),
}

#[derive(Subcommand)]
enum SamlCommand {
    /// Print the `[[saml.service_providers]]` entry for an SP's metadata (or append it to a TOML file).
    SpAdd {
        /// The SP's SAML metadata (an EntityDescriptor with an SPSSODescriptor).
        #[arg(long)]
        metadata: PathBuf,
        /// The name shown on the sign-in page ("Đăng nhập để vào …"); default: the entity id.
        #[arg(long)]
        name: Option<String>,
        /// Append the entry to this TOML file (e.g. the config file) instead of printing it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// List the live SSO sessions of an account.
    List {
        #[arg(long)]
        account: String,
    },
    /// End every SSO session and revoke every token of an account, or end one session.
    Revoke {
        #[arg(long, required_unless_present = "session", conflicts_with = "session")]
        account: Option<String>,
        /// A session id (the `sid` apps see).
        #[arg(long)]
        session: Option<String>,
        /// Who is acting, for the audit trail (default: $USER).
        #[arg(long, env = "USER")]
        operator: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the keys: id, algorithm, creation time, and whether each signs or is retired.
    List,
    /// Add a new key for every algorithm; running instances switch to them within `reload_interval_secs`.
    Rotate,
    /// Remove retired keys whose tokens have all expired (replaced more than the longest token lifetime ago).
    Prune,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config),
        Command::CheckConfig => check_config(cli.config),
        Command::HashSecret { secret } => hash_secret(secret),
        Command::Keys(command) => keys(cli.config, command),
        Command::Sessions(command) => sessions(cli.config, command),
        Command::MailboxName(args) => commands::mailbox_name(cli.config.as_deref(), args),
        Command::Report(command) => commands::report(cli.config.as_deref(), command),
        Command::Accounts(command) => commands::accounts(cli.config.as_deref(), command),
        Command::Mfa(command) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            match load(cli.config) {
                Ok(config) => danang_sso::mfa::cli::run(config, command),
                Err(code) => code,
            }
        }
        Command::Saml(SamlCommand::SpAdd { metadata, name, output }) => saml_sp_add(&metadata, name, output),
    }
}

fn saml_sp_add(metadata: &std::path::Path, name: Option<String>, output: Option<PathBuf>) -> ExitCode {
    use std::io::Write;
    let entry = std::fs::read(metadata).map_err(|e| format!("{}: {e}", metadata.display())).and_then(|xml| {
        let entry = danang_sso::saml::sp::config_entry(&xml, name)?;
        // What the SP will get, and warnings: on stderr, so the entry on stdout stays valid TOML.
        danang_sso::saml::sp_add::notes(&xml)?.iter().for_each(|line| eprintln!("{line}"));
        Ok(entry)
    });
    let entry = match entry {
        Ok(e) => e,
        Err(e) => {
            eprintln!("danang-sso: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(path) = output else {
        print!("{entry}");
        return ExitCode::SUCCESS;
    };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("\n{entry}").as_bytes()));
    match appended {
        Ok(()) => {
            eprintln!("added to {}; check name and attributes, then restart the service", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("danang-sso: {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn sessions(config: Option<PathBuf>, command: SessionsCommand) -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    danang_sso::run_on_shared_store(config, "sessions", async |app| {
        let provider = &app.provider;
        let ctx = danang_sso::audit::RequestContext::default();
        match command {
            SessionsCommand::List { account } => provider.sessions_of(&account).await.map(|sessions| {
                for s in &sessions {
                    println!("{}\t{}\tauth_time={}\texpires_at={}", s.id, s.account, s.auth_time, s.expires_at);
                }
                eprintln!("{} session(s)", sessions.len());
            }),
            SessionsCommand::Revoke { account, session, operator } => {
                let operator = format!("cli:{}", operator.unwrap_or_else(|| "unknown".into()));
                let done = match (account, session) {
                    (Some(a), _) => provider.revoke_account(&a, &operator, &ctx).await,
                    (None, Some(s)) => provider.revoke_session(&s, &operator, &ctx).await,
                    (None, None) => Err(danang_sso::error::Error::InvalidRequest("give --account or --session".into())),
                };
                provider.notifier.drain().await;
                done.map(|d| println!("ended {} session(s), revoked {} grant(s)", d.sessions, d.grants))
            }
        }
    })
}

fn keys(config: Option<PathBuf>, command: KeysCommand) -> ExitCode {
    use danang_sso::keys::{Alg, KeySet};
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let dir = &config.keys.dir;
    let grace = config.tokens.access_token_ttl_secs.max(config.tokens.id_token_ttl_secs) + 300;
    let result = match command {
        KeysCommand::List => KeySet::load(dir, Alg::RS256).map(|set| {
            let mut seen = Vec::new();
            for key in set.keys() {
                let status = if seen.contains(&key.alg) { "retired" } else { "signing" };
                seen.push(key.alg);
                println!("{}\t{}\t{}\t{}\t{}", key.kid, key.alg.as_str(), key.created, status, key.path.display());
            }
        }),
        KeysCommand::Rotate => danang_sso::keys::rotate(dir).map(|paths| {
            for p in paths {
                println!("added {}", p.display());
            }
        }),
        KeysCommand::Prune => danang_sso::keys::prune(dir, grace).map(|paths| {
            if paths.is_empty() {
                println!("nothing to prune (keys are kept {grace} s after they are replaced)");
            }
            for p in paths {
                println!("removed {}", p.display());
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("danang-sso: {e}");
            ExitCode::FAILURE
        }
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
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(e) = danang_sso::telemetry::logs::init(&config.log) {
        eprintln!("danang-sso: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("danang-sso: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match start(config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err((code, message)) => {
                eprintln!("danang-sso: {message}");
                code
            }
        }
    })
}

/// Builds the service, binds its listeners and serves until SIGTERM or SIGINT. Errors carry the exit code:
/// 2 for a config the service refuses, 1 for the rest.
async fn start(config: Config) -> Result<(), (ExitCode, String)> {
    let failed = |e: String| (ExitCode::FAILURE, e);
    let listen = config.server.listen.clone();
    let tls_files = config.server.tls_cert_file.clone().zip(config.server.tls_key_file.clone());
    let metrics_listen = config.server.metrics_listen.clone();
    // Every config problem at once, the TLS files included, before anything is bound.
    let app = danang_sso::build(config).await.map_err(|e| (ExitCode::from(2), e.to_string()))?;
    let tls = match tls_files {
        Some((cert, key)) => {
            let tls = TlsCerts::load(&cert, &key).map_err(|e| (ExitCode::from(2), e.to_string()))?;
            let reloader = danang_sso::tls::reload_on_sighup(tls.clone()).map_err(|e| failed(e.to_string()))?;
            tokio::spawn(reloader);
            Some(tls)
        }
        None => None,
    };
    let bind = |addr: String| async move {
        tokio::net::TcpListener::bind(&addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))
    };
    let listener = bind(listen.clone()).await.map_err(failed)?;
    if let Some(addr) = metrics_listen {
        let metrics_listener = bind(addr.clone()).await.map_err(failed)?;
        tracing::info!(listen = %addr, "metrics are served here only");
        tokio::spawn(danang_sso::run_metrics(metrics_listener, app.metrics.clone(), shutdown_signal()));
    }
    let issuer = app.provider.issuer.clone();
    let signal = shutdown_signal();
    let grace = app.shutdown_grace.as_secs();
    let shutdown = async move {
        signal.await;
        tracing::info!(grace_secs = grace, "shutting down: finishing in-flight requests");
    };
    let served = match tls {
        Some(tls) => {
            tracing::info!(%listen, %issuer, "danang-sso is serving HTTPS (SIGHUP reloads the certificate)");
            danang_sso::run_tls(listener, app, tls, shutdown).await
        }
        None => {
            tracing::info!(%listen, %issuer, "danang-sso is serving HTTP");
            danang_sso::run(listener, app, shutdown).await
        }
    };
    served.map_err(|e| failed(e.to_string()))?;
    tracing::info!("danang-sso stopped");
    Ok(())
}

/// Listens for SIGINT and SIGTERM from this call on (so an early signal is never fatal); the future completes
/// on the first one.
#[cfg(unix)]
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = signal(SignalKind::interrupt()).and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
    async move {
        match signals {
            Ok((mut int, mut term)) => {
                tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGINT and SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn check_config(config: Option<PathBuf>) -> ExitCode {
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut problems = config.problems();
    problems.extend(config.file_problems());
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
