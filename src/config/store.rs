//! Checks of `[store]` with `kind = "redis"`: exactly one shape (one server, Sentinel, or Cluster), and URLs
//! that are Redis URLs. Messages never echo a URL: it may hold a password.

use super::{ConfigError, StoreConfig};

impl StoreConfig {
    /// Every problem of a Redis store's settings, each naming its key.
    pub(super) fn problems(&self, out: &mut Vec<ConfigError>) {
        let shapes = [
            ("store.redis_url", self.redis_url.is_some()),
            ("store.sentinel_urls", !self.sentinel_urls.is_empty()),
            ("store.cluster_urls", !self.cluster_urls.is_empty()),
        ];
        let set: Vec<&str> = shapes.iter().filter(|(_, on)| *on).map(|(key, _)| *key).collect();
        match set.as_slice() {
            [] => out.push(ConfigError::new(
                "store.redis_url",
                "required when store.kind = \"redis\" (or, instead, store.sentinel_urls or store.cluster_urls)",
            )),
            [_] => {}
            [first, rest @ ..] => {
                for key in rest {
                    out.push(ConfigError::new(
                        *key,
                        format!(
                            "set together with {first}: give exactly one of redis_url, sentinel_urls, cluster_urls"
                        ),
                    ));
                }
            }
        }
        if let Some(url) = &self.redis_url {
            check_url(out, "store.redis_url", url);
        }
        for url in &self.sentinel_urls {
            check_url(out, "store.sentinel_urls", url);
        }
        for url in &self.cluster_urls {
            check_url(out, "store.cluster_urls", url);
        }
        if !self.sentinel_urls.is_empty() {
            if self.sentinel_master.trim().is_empty() {
                out.push(ConfigError::new("store.sentinel_master", "the master's name is required with sentinel_urls"));
            }
            if self.ca_file.is_some() {
                out.push(ConfigError::new("store.ca_file", "not supported with store.sentinel_urls"));
            }
        }
        if self.timeout_ms == 0 {
            out.push(ConfigError::new("store.timeout_ms", "must be more than 0"));
        }
    }
}

fn check_url(out: &mut Vec<ConfigError>, key: &str, url: &str) {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host().is_some() => {}
        // The URL may hold a password: never echo it.
        _ => out.push(ConfigError::new(key, "must be a redis:// or rediss:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, StoreKind};

    fn redis() -> Config {
        let mut config = Config::default();
        config.store.kind = StoreKind::Redis;
        config
    }

    fn keys(config: &Config) -> Vec<String> {
        config.problems().into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn exactly_one_shape_is_required() {
        assert_eq!(keys(&redis()), ["store.redis_url"]);
        let mut one = redis();
        one.store.sentinel_urls = vec!["redis://127.0.0.1:26379".into()];
        assert!(keys(&one).is_empty(), "{:?}", keys(&one));
        let mut two = one.clone();
        two.store.redis_url = Some("redis://127.0.0.1:6379".into());
        two.store.cluster_urls = vec!["redis://127.0.0.1:7000".into()];
        assert_eq!(keys(&two), ["store.sentinel_urls", "store.cluster_urls"]);
    }

    #[test]
    fn urls_must_be_redis_urls_and_are_never_echoed() {
        let mut config = redis();
        config.store.cluster_urls = vec!["redis://127.0.0.1:7000".into(), "http://:secret@host:7001".into()];
        let problems = config.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "store.cluster_urls");
        assert!(!problems[0].to_string().contains("secret"));
    }
}
