//! The commands for the city's rules: `mailbox-name`, `report dormant|usage`, `accounts reactivate`.
//!
//! Their arguments are declared here (clap) and `main` only mounts them, so the CLI stays one screen long.
//! Each command prints its answer to standard output (or `--output`), problems to standard error; the exit
//! status is 0 when done, 1 when a server did not answer, 2 when the request or the config is wrong.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use crate::audit::RequestContext;
use crate::calendar::Day;
use crate::clock::Clock;
use crate::config::{Config, StoreKind};
use crate::policy::mailbox::{first_free, personal_name, unit_name};
use crate::report::{ReportError, annex, dormant, usage};

/// `danang-sso mailbox-name`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["name", "unit", "csv"])))]
pub struct MailboxNameArgs {
    /// A person's full name: "Nguyễn Văn Dũng" → dungnv@danang.gov.vn.
    pub name: Option<String>,
    /// A unit's full name instead: "Sở Kế hoạch và Đầu tư" → skhdt@danang.gov.vn.
    #[arg(long)]
    pub unit: Option<String>,
    /// An annex list of new staff (CSV with a header row: full_name/ho_ten/"Họ và tên", unit/don_vi/"Đơn vị").
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the CSV answer to this file instead of standard output.
    #[arg(long, requires = "csv")]
    pub output: Option<PathBuf>,
}

/// `danang-sso report …`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Directory accounts with no sign-in for DAYS days (and, with a date, those never seen), as CSV.
    Dormant {
        /// Default: `[policy] dormant_after_days`, else 180 (six months, as the city's rules say).
        #[arg(long)]
        days: Option<u64>,
        /// Also list accounts never seen, counting from this day (YYYY-MM-DD; when recording began).
        /// Default: `[policy] dormant_never_seen_since`.
        #[arg(long)]
        never_seen_since: Option<String>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Sign-ins and distinct accounts per unit and per app, from the audit trail file.
    Usage {
        /// First day (YYYY-MM-DD, Vietnam time), included.
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Audit files to read (repeat for several instances or rotated files); default `[audit] path`.
        #[arg(long = "audit-file")]
        audit_files: Vec<PathBuf>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// The usage report's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    /// A printable page (Vietnamese).
    Html,
}

/// `danang-sso accounts …`.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Re-open a dormant mailbox at its unit's request: its dormancy period starts again from now.
    Reactivate {
        #[arg(long)]
        account: String,
        /// Who is acting, for the audit trail (default: $USER).
        #[arg(long, env = "USER")]
        operator: Option<String>,
    },
}

/// Runs `work` on a fresh runtime, printing a failure; `Ok(Some(text))` is written to `output` or stdout.
fn run<F>(output: Option<&Path>, work: F) -> ExitCode
where
    F: Future<Output = Result<Option<String>, Failure>>,
{
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(work),
        Err(e) => Err(Failure::Service(e.to_string())),
    };
    let text = match result {
        Ok(text) => text.unwrap_or_default(),
        Err(Failure::Usage(message)) => return fail(2, &message),
        Err(Failure::Service(message)) => return fail(1, &message),
    };
    let written = match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    };
    written.map_or_else(|e| fail(1, &e), |()| ExitCode::SUCCESS)
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("danang-sso: {message}");
    ExitCode::from(code)
}

/// How a command failed: the caller's fault (2) or a server's (1).
enum Failure {
    Usage(String),
    Service(String),
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Invalid(m) => Failure::Usage(m),
            e @ ReportError::Unavailable { .. } => Failure::Service(e.to_string()),
        }
    }
}

fn load(path: Option<&Path>) -> Result<Config, Failure> {
    let config = Config::load(path).map_err(|e| Failure::Usage(e.to_string()))?;
    match config.problems().as_slice() {
        [] => Ok(config),
        problems => Err(Failure::Usage(problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))),
    }
}

/// `mailbox-name`: the rule's answer; with a config file, the first name free in its directory.
pub fn mailbox_name(config_path: Option<&Path>, args: MailboxNameArgs) -> ExitCode {
    let output = args.output.clone();
    run(output.as_deref(), async move {
        let config = load(config_path)?;
        let domain = config.policy.allowed_domains.first().cloned().unwrap_or_default();
        // The directory the configuration names, however it was configured (file or DANANG_SSO__… environment);
        // only the embedded demo directory is skipped: it would only confuse the answer.
        let directory = match config.directory.is_embedded_demo() {
            false => Some(crate::open_directory(&config, Clock::default()).map_err(|e| Failure::Usage(e.to_string()))?),
            true => None,
        };
        if let Some(path) = &args.csv {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            let staff = annex::read(&text)?;
            let proposals = annex::propose(directory.as_deref(), &domain, staff).await?;
            return Ok(Some(annex::to_csv(&proposals)));
        }
        let (base, what) = match (&args.name, &args.unit) {
            (Some(name), _) => (personal_name(name), name),
            (None, Some(unit)) => (unit_name(unit), unit),
            (None, None) => return Err(Failure::Usage("give a name, --unit or --csv".into())),
        };
        let base = base.ok_or_else(|| Failure::Usage(format!("{what:?} has no letters to make a name from")))?;
        let name = match &directory {
            Some(directory) => first_free(directory.as_ref(), &base, &domain, &Default::default())
                .await
                .map_err(|e| Failure::Service(e.to_string()))?,
            None => base.clone(),
        };
        if name != base {
            eprintln!("{base}@{domain} is taken in the directory");
        }
        Ok(Some(format!("{name}@{domain}\n")))
    })
}

/// `report dormant` and `report usage`.
pub fn report(config_path: Option<&Path>, command: ReportCommand) -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match command {
        ReportCommand::Dormant { days, never_seen_since, output } => run(output.as_deref(), async move {
            let config = load(config_path)?;
            let since = never_seen_since.or_else(|| config.policy.dormant_never_seen_since.clone());
            let since = match since {
                Some(s) => Some(Day::parse(&s).ok_or_else(|| Failure::Usage(format!("{s}: not a date YYYY-MM-DD")))?),
                None => None,
            };
            if config.store.kind == StoreKind::Memory {
                return Err(Failure::Usage(
                    "with store.kind = \"memory\" the last sign-ins live inside the running server; \
                     use its admin API (GET /admin/reports/dormant) or a shared Redis store"
                        .into(),
                ));
            }
            let app = crate::build(config).await.map_err(|e| Failure::Service(e.to_string()))?;
            let days = days.or(app.provider.policy.dormancy.after_days).unwrap_or(dormant::DEFAULT_DAYS);
            let criteria = dormant::Criteria { days, never_seen_since: since };
            Ok(Some(dormant::to_csv(&dormant::run(&app.provider, criteria).await?)))
        }),
        ReportCommand::Usage { from, to, format, audit_files, output } => run(output.as_deref(), async move {
            let config = load(config_path)?;
            let period = usage::Period::parse(&from, &to)?;
            let files = match (audit_files.is_empty(), &config.audit.path) {
                (false, _) => audit_files,
                (true, Some(path)) if config.audit.output == "file" => vec![path.clone()],
                _ => {
                    return Err(Failure::Usage(
                        "the usage report reads the audit trail file: set [audit] output = \"file\" and path, \
                         or give --audit-file"
                            .into(),
                    ));
                }
            };
            let directory =
                crate::open_directory(&config, Clock::default()).map_err(|e| Failure::Usage(e.to_string()))?;
            let policy = crate::policy::Policy::new(&config.policy.allowed_domains);
            let clients = crate::oidc::clients::Clients::new(&config.clients).map_err(Failure::Usage)?;
            let report = usage::run(directory.as_ref(), &policy, &clients, files, period).await?;
            if report.unreadable_lines > 0 {
                eprintln!("{} audit line(s) could not be read and were not counted", report.unreadable_lines);
            }
            Ok(Some(match format {
                Format::Csv => report.to_csv(),
                Format::Html => {
                    let stylesheet = format!("{}/static/report.css", config.server.issuer.trim_end_matches('/'));
                    report.to_html(&stylesheet, Clock::default().now())
                }
            }))
        }),
    }
}

/// `accounts reactivate`.
pub fn accounts(config_path: Option<&Path>, command: AccountsCommand) -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let AccountsCommand::Reactivate { account, operator } = command;
    run(None, async move {
        let config = load(config_path)?;
        if config.store.kind == StoreKind::Memory {
            return Err(Failure::Usage(
                "with store.kind = \"memory\" the last sign-ins live inside the running server; \
                 use its admin API (POST /admin/accounts/reactivate) or a shared Redis store"
                    .into(),
            ));
        }
        let app = crate::build(config).await.map_err(|e| Failure::Service(e.to_string()))?;
        let operator = format!("cli:{}", operator.unwrap_or_else(|| "unknown".into()));
        let done = app.provider.reactivate(&account, &operator, &RequestContext::default()).await;
        app.provider.audit.flush();
        done.map_err(|e| match e {
            crate::error::Error::InvalidRequest(m) => Failure::Usage(m),
            e => Failure::Service(e.to_string()),
        })?;
        Ok(Some(format!("{account}: re-activated\n")))
    })
}
