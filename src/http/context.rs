//! Who is calling: the client IP (through trusted proxies only) and user agent, for throttling and the audit trail.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::App;
use crate::audit::RequestContext;

/// The client address: the peer, unless it is a trusted proxy; then `X-Forwarded-For`, every header line in
/// order, read right to left: trusted proxies are skipped, the first untrusted hop is the client, and a hop that
/// does not parse (`unknown`, garbage) stops the walk at the proxy that wrote it. Hops may carry a port
/// (`ip:port`, `[v6]:port`, as some proxies append them). Never the left-most hop as a fallback: everything left
/// of the nearest untrusted hop was written by the client, who could choose a fresh address for every request.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(&ip));
    let mut nearest = peer?.to_canonical();
    if !is_trusted(nearest) {
        return Some(nearest);
    }
    let lines: Vec<&str> = forwarded_for.into_iter().collect();
    for hop in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip) => nearest = ip,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    Some(nearest)
}

/// One `X-Forwarded-For` hop: `ip`, `ip:port`, `[v6]` or `[v6]:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(IpAddr::V6))?;
    Some(ip.to_canonical())
}

/// Extracts the [`RequestContext`] of a request.
pub struct Ctx(pub RequestContext);

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        // A line that is not visible ASCII stays in the walk as an unparsable hop: it stops there.
        let xff = parts.headers.get_all("x-forwarded-for").iter().map(|v| v.to_str().unwrap_or("?"));
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|u| u.chars().take(256).collect());
        Ok(Ctx(RequestContext { ip: client_ip(peer, xff, &app.trusted_proxies), user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = ["10.0.0.0/8", "192.168.1.1/32"].iter().map(|n| n.parse().unwrap()).collect();
        assert_eq!(client_ip(Some(ip("203.0.113.9")), ["1.2.3.4"], &trusted), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), ["1.2.3.4"], &trusted), Some(ip("1.2.3.4")));
        // A client that sends its own X-Forwarded-For cannot hide behind it: the proxy appends the real address.
        assert_eq!(client_ip(Some(ip("10.1.2.3")), ["6.6.6.6, 1.2.3.4, 192.168.1.1"], &trusted), Some(ip("1.2.3.4")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), ["6.6.6.6, 1.2.3.4:80"], &trusted), Some(ip("1.2.3.4")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), ["6.6.6.6", "[2001:db8::1]:80"], &trusted), Some(ip("2001:db8::1")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), ["6.6.6.6, unknown"], &trusted), Some(ip("10.1.2.3")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), [], &trusted), Some(ip("10.1.2.3")));
    }
}
