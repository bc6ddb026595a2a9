//! Sentry DSNs: `https://PUBLIC_KEY[:SECRET]@HOST[/PATH]/PROJECT_ID`. The
//! public form is what SDKs embed; a secret part, where an older DSN has one,
//! never leaves the proxy, so DSNs are compared and shown by their parts.

/// A DSN's parts, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    pub scheme: String,
    pub public_key: String,
    /// Host, with its port when it has one.
    pub host: String,
    /// The path before the project id, without slashes at either end.
    pub path: String,
    pub project_id: String,
}

impl Dsn {
    pub fn parse(text: &str) -> Option<Dsn> {
        let (scheme, rest) = text.trim().split_once("://")?;
        if !matches!(scheme, "http" | "https") {
            return None;
        }
        let (user, location) = rest.split_once('@')?;
        let public_key = user.split(':').next()?.to_owned();
        let (host, path) = location.split_once('/')?;
        let path = path.trim_end_matches('/');
        let (path, project_id) = match path.rsplit_once('/') {
            Some((path, id)) => (path.trim_matches('/'), id),
            None => ("", path),
        };
        let valid = !public_key.is_empty()
            && !host.is_empty()
            && !project_id.is_empty()
            && project_id.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Dsn {
            scheme: scheme.to_owned(),
            public_key,
            host: host.to_owned(),
            path: path.to_owned(),
            project_id: project_id.to_owned(),
        })
    }

    /// Whether two DSNs send to the same project with the same key (their
    /// secret parts, if any, do not matter).
    pub fn same_as(&self, other: &Dsn) -> bool {
        self == other
    }

    /// The public DSN, as SDKs take it.
    pub fn public(&self) -> String {
        let path = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        format!(
            "{}://{}@{}/{path}{}",
            self.scheme, self.public_key, self.host, self.project_id
        )
    }

    /// The DSN with its key shortened: enough to recognise, for places
    /// where a full value should not be shown.
    pub fn masked(&self) -> String {
        let shown: String = self.public_key.chars().take(6).collect();
        let path = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        format!(
            "{}://{shown}…@{}/{path}{}",
            self.scheme, self.host, self.project_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsns_compare_by_key_host_and_project_whatever_their_secret() {
        let public = Dsn::parse("https://abc123def@o42.ingest.us.sentry.io/4507").unwrap();
        let with_secret =
            Dsn::parse("https://abc123def:s3cr3t@o42.ingest.us.sentry.io/4507").unwrap();
        assert!(public.same_as(&with_secret));
        assert_eq!(
            with_secret.public(),
            "https://abc123def@o42.ingest.us.sentry.io/4507"
        );
        assert!(!with_secret.masked().contains("s3cr3t"));
        assert_eq!(
            with_secret.masked(),
            "https://abc123…@o42.ingest.us.sentry.io/4507"
        );
        let other_project = Dsn::parse("https://abc123def@o42.ingest.us.sentry.io/4508").unwrap();
        assert!(!public.same_as(&other_project));
        let hosted = Dsn::parse("http://key@sentry.example.com:9000/sentry/3/").unwrap();
        assert_eq!(hosted.path, "sentry");
        assert_eq!(
            hosted.public(),
            "http://key@sentry.example.com:9000/sentry/3"
        );
        for bad in [
            "",
            "not a dsn",
            "ftp://k@h/1",
            "https://h/1",
            "https://k@h/",
            "https://k@h/x",
        ] {
            assert_eq!(Dsn::parse(bad), None, "{bad}");
        }
    }
}
