//! Where a request comes from and where it was sent: the client's address
//! behind trusted reverse proxies, and the origins Watchpost is served from.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// How Watchpost is reached.
#[derive(Debug, Clone)]
pub struct Network {
    /// `scheme://host[:port]`, lower case, as browsers send `Origin`.
    origins: Vec<String>,
    trusted_proxies: Vec<IpNet>,
}

impl Network {
    /// `public_origins` as configured, and the loopback names of `port` over
    /// plain HTTP: those only a browser on this machine sends, and the `Host`
    /// a reverse proxy on this machine sends when it rewrites it (nginx's default).
    pub fn new(
        public_origins: &[String],
        port: u16,
        trusted_proxies: Vec<IpNet>,
    ) -> Result<Self, String> {
        let mut origins = public_origins
            .iter()
            .map(|origin| parse_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        origins.extend(
            ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .map(|host| format!("http://{host}:{port}")),
        );
        Ok(Network {
            origins,
            trusted_proxies,
        })
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Whether `host` (a `Host` header) names Watchpost. A browser sends the
    /// name it resolved, so a foreign name is a DNS-rebinding page or a mistake.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.origins.iter().any(|origin| {
            let (scheme, authority) = origin.split_once("://").unwrap_or(("", origin));
            authority == host
                || default_port(scheme).is_some_and(|port| {
                    authority
                        .strip_suffix(port)
                        .is_some_and(|bare| bare == host)
                        || host.strip_suffix(port) == Some(authority)
                })
        })
    }

    /// Whether `origin` (an `Origin` header) is one Watchpost is served from,
    /// scheme included.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|origin| {
            self.origins.iter().any(|allowed| {
                *allowed == origin || strip_default_port(allowed) == strip_default_port(&origin)
            })
        })
    }

    /// The address of the client: the peer itself, unless the peer is a
    /// trusted reverse proxy, in which case the nearest address in
    /// `Forwarded` (or else `X-Forwarded-For`) that is not a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let forwarded = forwarded_for(headers);
        // The last entries were added by our own proxies; walk back past them.
        forwarded
            .iter()
            .rev()
            .copied()
            .find(|ip| !self.is_trusted(*ip))
            .or_else(|| forwarded.first().copied())
            .unwrap_or(peer)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// `--trusted-proxy` values: an address or a CIDR block.
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is neither an address nor a CIDR block such as 10.0.0.0/8"))
}

/// `scheme://host[:port]`, lower case; anything else is an error that says so.
fn parse_origin(text: &str) -> Result<String, String> {
    let lower = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let problem = || {
        format!(
            "`{text}` is not an origin such as https://watchpost.example.com (scheme, host and port only)"
        )
    };
    let (scheme, authority) = lower.split_once("://").ok_or_else(problem)?;
    if !matches!(scheme, "http" | "https")
        || authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' '])
    {
        return Err(problem());
    }
    Ok(lower)
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    }
}

fn strip_default_port(origin: &str) -> &str {
    let scheme = origin.split("://").next().unwrap_or_default();
    default_port(scheme)
        .and_then(|port| origin.strip_suffix(port))
        .unwrap_or(origin)
}

/// The addresses of `Forwarded: for=…` (RFC 7239), or else of
/// `X-Forwarded-For`, in the order the proxies added them.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded: Vec<IpAddr> = values("forwarded")
        .into_iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| parse_node(value))?
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    values("x-forwarded-for")
        .into_iter()
        .filter_map(parse_node)
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(ip, _)| ip.parse().ok())
        })
}

/// Request headers from name and value pairs, for tests.
#[cfg(test)]
pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                axum::http::HeaderName::from_static(k),
                axum::http::HeaderValue::from_static(v),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_defaults_name_the_port() {
        let net = Network::new(&[], 8080, vec![]).unwrap();
        assert!(net.host_allowed("127.0.0.1:8080"));
        assert!(net.host_allowed("LOCALHOST:8080"));
        assert!(net.host_allowed("[::1]:8080"));
        assert!(!net.host_allowed("evil.example"));
        assert!(!net.host_allowed("127.0.0.1:9090"));
        assert!(net.origin_allowed("http://localhost:8080"));
        assert!(
            !net.origin_allowed("https://localhost:8080"),
            "scheme counts"
        );
        assert!(!net.origin_allowed("http://evil.example"));
        assert!(!net.origin_allowed("null"));
    }

    #[test]
    fn public_origins_add_to_the_loopback_ones() {
        let net =
            Network::new(&["https://Watchpost.example.com/".to_owned()], 8080, vec![]).unwrap();
        assert!(net.host_allowed("watchpost.example.com"));
        assert!(net.host_allowed("watchpost.example.com:443"));
        assert!(
            net.host_allowed("127.0.0.1:8080"),
            "a local reverse proxy's Host"
        );
        assert!(!net.host_allowed("evil.example"));
        assert!(net.origin_allowed("https://watchpost.example.com"));
        assert!(net.origin_allowed("https://watchpost.example.com:443"));
        assert!(!net.origin_allowed("http://watchpost.example.com"));
        for bad in [
            "watchpost.example.com",
            "ftp://x",
            "https://x/path",
            "https://",
        ] {
            assert!(Network::new(&[bad.to_owned()], 1, vec![]).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = vec![parse_trusted_proxy("10.0.0.0/8").unwrap()];
        let net = Network::new(&[], 1, proxies).unwrap();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            net.client_ip(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        assert_eq!(net.client_ip(ip("10.1.2.3"), &forged), ip("203.0.113.9"));
        // A client's own X-Forwarded-For comes first; our proxies append after it.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(net.client_ip(ip("10.1.2.3"), &chain), ip("203.0.113.9"));
        let rfc = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=https, for=\"[2001:db8::17]:4711\"",
        )]);
        assert_eq!(net.client_ip(ip("10.0.0.1"), &rfc), ip("2001:db8::17"));
        assert_eq!(
            net.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            parse_trusted_proxy("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert!(parse_trusted_proxy("nonsense").is_err());
    }
}
