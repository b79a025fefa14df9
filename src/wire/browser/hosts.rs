//! The Host check against DNS rebinding: a page that makes its own name resolve to 127.0.0.1
//! still sends its own name as `Host`, so refusing names that are not ours keeps it out.

use std::net::IpAddr;

/// Which `Host` names are served.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    /// False on a non-loopback `--host` without `--allowed-hosts`: containers are reached by
    /// service names nobody can list in advance.
    restricted: bool,
    /// `--allowed-hosts`, lower case, without ports.
    allowed: Vec<String>,
}

impl Hosts {
    pub fn new(listen_host: &str, allowed_hosts: &[String]) -> Self {
        let allowed: Vec<String> = allowed_hosts
            .iter()
            .map(|h| without_port(h.trim()).to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Hosts {
            restricted: is_loopback(listen_host) || !allowed.is_empty(),
            allowed,
        }
    }

    /// Loopback names and addresses, the allowed hosts, and the virtual-host forms S3 clients
    /// use (`<bucket>.localhost`, `<bucket>.s3.localhost`, `<bucket>.<allowed host>`).
    pub fn admits(&self, host_header: &str) -> bool {
        if !self.restricted {
            return true;
        }
        let host = without_port(host_header).to_ascii_lowercase();
        is_loopback(&host)
            || host.ends_with(".localhost")
            || self
                .allowed
                .iter()
                .any(|a| host == *a || host.ends_with(&format!(".{a}")))
    }
}

/// `localhost`, `127.0.0.0/8` and `::1` (bracketed or not).
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `name:port` → `name`; `[::1]:port` → `[::1]`; a bare IPv6 address is left whole.
pub fn without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_listeners_serve_loopback_names_and_allowed_hosts_only() {
        let hosts = Hosts::new("127.0.0.1", &["codepipeline.test".to_owned()]);
        for ok in [
            "localhost:4566",
            "LOCALHOST",
            "127.0.0.1:4566",
            "127.1.2.3",
            "[::1]:4566",
            "site.localhost:4566",
            "site.s3.localhost",
            "codepipeline.test:4566",
            "site.codepipeline.test",
        ] {
            assert!(hosts.admits(ok), "{ok}");
        }
        for refused in [
            "evil.example:4566",
            "localhost.evil.example",
            "192.168.1.10:4566",
            "notcodepipeline.test",
            "0.0.0.0",
        ] {
            assert!(!hosts.admits(refused), "{refused}");
        }
    }

    #[test]
    fn other_listeners_serve_any_name_unless_hosts_are_named() {
        assert!(Hosts::new("0.0.0.0", &[]).admits("codepipeline:4566"));
        let named = Hosts::new("0.0.0.0", &["codepipeline".to_owned()]);
        assert!(named.admits("codepipeline:4566"));
        assert!(named.admits("localhost"));
        assert!(!named.admits("evil.example"));
    }

    #[test]
    fn ports_are_cut_off_but_ipv6_addresses_kept() {
        assert_eq!(without_port("a.b:80"), "a.b");
        assert_eq!(without_port("[::1]:80"), "[::1]");
        assert_eq!(without_port("::1"), "::1");
        assert_eq!(without_port("name"), "name");
    }
}
