//! `danang-sso mfa list|reset --account …`: the IT centre's second-factor commands for a lost phone, on the
//! store every instance shares. Audited as operator actions (`mfa_reset` with `operator = cli:$USER`).

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;

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
    crate::run_on_shared_store(config, "factors", async |app| {
        let provider = &app.provider;
        let ctx = crate::audit::RequestContext::default();
        match command {
            MfaCommand::List { account } => {
                let (account, kinds) = provider.list_mfa(&account).await?;
                println!("{account}\t{}", if kinds.is_empty() { "none".to_owned() } else { kinds.join(",") });
                // One line per passkey: its name, when it was added and last used (Unix seconds, 0 = never).
                for (name, created, last_used) in provider.list_passkeys(&account).await? {
                    println!("passkey\t{name}\t{created}\t{}", last_used.unwrap_or(0));
                }
                Ok(())
            }
            MfaCommand::Reset { account, operator } => {
                let operator = format!("cli:{}", operator.unwrap_or_else(|| "unknown".into()));
                provider.reset_mfa(&account, &operator, &ctx).await.map(|removed| {
                    println!("removed: {}", if removed.is_empty() { "nothing".to_owned() } else { removed.join(",") });
                })
            }
        }
    })
}
