//! Three city apps, one sign-in: the demo relying parties of danang-sso.
//!
//! ```sh
//! cargo run --release                         # the provider, at http://127.0.0.1:8080
//! cargo run --release --example city-apps     # the apps, at http://127.0.0.1:8081, :8082 and :8083
//! ```
//!
//! Open <http://127.0.0.1:8081>, sign in as `dungnv` (password `Danang@2026`), walk into the other two apps
//! without signing in again, and sign out of all three from any one of them. The apps themselves live in
//! `examples/city-apps/` (start with its `mod.rs`); the browser test `tests/it/browser_e2e.rs` runs them too.

#[path = "city-apps/mod.rs"]
mod city_apps;

use clap::Parser;
use tokio::net::TcpListener;

use city_apps::CITY_APPS;

#[derive(Parser)]
#[command(about = "The three demo city apps (OpenID Connect relying parties of danang-sso)")]
struct Args {
    /// The provider's issuer URL; the apps find everything else through its discovery document.
    #[arg(long, env = "DANANG_SSO_ISSUER", default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// Ports of the portal, document management and citizen reception apps. The provider only sends people
    /// back to registered redirect URIs (`config/clients.toml`): other ports need those changed too.
    #[arg(long, env = "CITY_APPS_PORTS", value_delimiter = ',', default_values_t = CITY_APPS.map(|a| a.port))]
    ports: Vec<u16>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let [portal, vanban, tiepdan] = args.ports[..] else { return Err("--ports takes three ports".into()) };
    let listeners = [
        TcpListener::bind(("127.0.0.1", portal)).await?,
        TcpListener::bind(("127.0.0.1", vanban)).await?,
        TcpListener::bind(("127.0.0.1", tiepdan)).await?,
    ];
    let running = city_apps::start(&args.issuer, listeners).await?;
    for (app, url) in CITY_APPS.iter().zip(&running.urls) {
        tracing::info!("{}: {url}/", app.name);
    }
    tracing::info!("signing in with {}; Ctrl-C stops the apps", args.issuer);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
