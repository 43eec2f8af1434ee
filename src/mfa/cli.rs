//! `danang-sso mfa list|reset --account …`: the IT centre's second-factor commands for a lost phone, on the
//! store every instance shares. Audited as operator actions (`mfa_reset` with `operator = cli:$USER`).

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, StoreKind};

#[derive(Subcommand)]
pub enum MfaCommand {
    /// List an account's second factors (names only, never secrets).
    List {
        #[arg(long)]
        account: String,
    },
    /// Remove every second factor of an account; its next sign-in where two factors are required enrols again.
    Reset {
        #[arg(long)]
        account: String,
        /// Who is acting, for the audit trail (default: $USER).
        #[arg(long, env = "USER")]
        operator: Option<String>,
    },
}

/// Runs one command against the configured (shared) store.
pub fn run(config: Config, command: MfaCommand) -> ExitCode {
    if config.store.kind == StoreKind::Memory {
        eprintln!(
            "danang-sso: with store.kind = \"memory\" the factors live inside the running server; \
             use its admin API ([admin] listen: /admin/mfa) or a shared Redis store"
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("danang-sso: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let app = match crate::build(config).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                return ExitCode::from(2);
            }
        };
        let provider = &app.provider;
        let ctx = crate::audit::RequestContext::default();
        let result = match command {
            MfaCommand::List { account } => provider.list_mfa(&account).await.map(|(account, kinds)| {
                println!("{account}\t{}", if kinds.is_empty() { "none".to_owned() } else { kinds.join(",") });
            }),
            MfaCommand::Reset { account, operator } => {
                let operator = format!("cli:{}", operator.unwrap_or_else(|| "unknown".into()));
                provider.reset_mfa(&account, &operator, &ctx).await.map(|removed| {
                    println!("removed: {}", if removed.is_empty() { "nothing".to_owned() } else { removed.join(",") });
                })
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
