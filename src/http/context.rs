//! Who is calling: the client IP (through trusted proxies only) and user agent, for throttling and the audit trail.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::App;
use crate::audit::RequestContext;

/// A proxy address or network from `[server] trusted_proxies`: `10.0.0.5` or `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Option<Network> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = s.parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let ((net, width), (candidate, cwidth)) = (bits(self.addr), bits(ip.to_canonical()));
        if width != cwidth {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (candidate >> shift)
    }
}

/// The client address: the peer, unless it is a trusted proxy, in which case the nearest untrusted hop of
/// `X-Forwarded-For` (read right to left, so a client cannot forge its way past the proxy).
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[Network]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for.unwrap_or("").split(',').filter_map(|h| h.trim().parse().ok()).collect();
    hops.iter().rev().find(|ip| !is_trusted(**ip)).or(hops.first()).copied().or(Some(peer))
}

/// Extracts the [`RequestContext`] of a request.
pub struct Ctx(pub RequestContext);

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let xff = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
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
        let trusted = [Network::parse("10.0.0.0/8").unwrap(), Network::parse("192.168.1.1").unwrap()];
        assert_eq!(client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4"), &trusted), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(Some(ip("10.1.2.3")), Some("1.2.3.4"), &trusted), Some(ip("1.2.3.4")));
        // A client that sends its own X-Forwarded-For cannot hide behind it: the proxy appends the real address.
        assert_eq!(
            client_ip(Some(ip("10.1.2.3")), Some("6.6.6.6, 1.2.3.4, 192.168.1.1"), &trusted),
            Some(ip("1.2.3.4"))
        );
        assert_eq!(client_ip(Some(ip("10.1.2.3")), None, &trusted), Some(ip("10.1.2.3")));
        assert!(Network::parse("10.0.0.0/33").is_none() && Network::parse("bogus").is_none());
        assert!(Network::parse("::1").unwrap().contains(ip("::1")));
        assert!(!Network::parse("10.0.0.0/8").unwrap().contains(ip("11.0.0.1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }
}
