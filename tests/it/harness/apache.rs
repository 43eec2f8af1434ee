//! A throwaway Apache httpd (Debian's `apache2`) for the interoperability test with mod_auth_mellon: its own
//! ServerRoot, configuration, pid file, lock files and error log in a private temp dir, listening on a free
//! loopback port (never port 80), started in the foreground so the process is ours, and stopped on drop
//! (`apache2 -k stop`, the graceful way that also ends its children; killed if that does not work). A missing
//! `apache2` or module fails the test with the command that installs it. When a test panics while Apache runs,
//! its error log is printed, since that is where mellon says what it refused.

use std::fs;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Daemon, PROBE_TIMEOUT, Startup, TempDir, free_port, installed};

/// What to tell someone whose machine lacks Apache or mellon.
const INSTALL: &str = "install apache2 libapache2-mod-auth-mellon \
     (`sudo apt-get install apache2 libapache2-mod-auth-mellon`, or run `bash .ci/test`, which installs them)";

/// Where Debian puts Apache's modules.
const MODULES: &str = "/usr/lib/apache2/modules";

/// The modules every test site gets: the prefork MPM (mellon's session cache is shared memory between the
/// children), authentication and authorisation cores, `Require valid-user`, MIME types, CGI for the app, and
/// mod_auth_mellon.
const LOAD: &[(&str, &str)] = &[
    ("mpm_prefork_module", "mod_mpm_prefork.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("mime_module", "mod_mime.so"),
    ("alias_module", "mod_alias.so"),
    ("cgi_module", "mod_cgi.so"),
    ("auth_mellon_module", "mod_auth_mellon.so"),
];

/// How long a graceful stop may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// One Apache server: made with its port chosen (so a site's metadata can name it), then started with a site.
pub struct Apache {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub port: u16,
    apache2: PathBuf,
    daemon: Daemon,
    /// Declared after `daemon`, so the server is stopped before its files go.
    root: TempDir,
}

impl Apache {
    /// What to tell someone whose machine lacks Apache or mellon.
    pub const INSTALL: &str = INSTALL;

    /// A server root (`conf/`, `logs/`, `htdocs/`, `run/`) and a free port; nothing runs yet.
    pub fn new() -> Apache {
        let apache2 = find_apache2();
        for (_, file) in LOAD {
            let module = Path::new(MODULES).join(file);
            assert!(module.is_file(), "{} is missing: {INSTALL}", module.display());
        }
        let root = TempDir::new("apache");
        // Readable whatever the umask: started as root, Apache's children (www-data) run the CGI app from here.
        let readable = |dir: &Path| fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        readable(root.path());
        for dir in ["conf", "logs", "htdocs", "run"] {
            fs::create_dir_all(root.path().join(dir)).expect("create an Apache dir");
            readable(&root.path().join(dir));
        }
        let port = free_port();
        let log = root.path().join("logs/console.log");
        Apache { url: format!("http://127.0.0.1:{port}"), port, apache2, daemon: Daemon::new("apache2", log), root }
    }

    /// The server root, where a site keeps its files.
    pub fn dir(&self) -> &Path {
        self.root.path()
    }

    /// Creates `NAME` in the server root, readable by Apache's children whatever the umask.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let dir = self.dir().join(name);
        fs::create_dir_all(&dir).expect("create a site dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("make the site dir readable");
        dir
    }

    /// Writes `PATH` (relative to the server root) readable by Apache's children, which read some files only
    /// when a request needs them (mellon: the IdP's metadata).
    pub fn write(&self, path: &str, contents: &str) -> PathBuf {
        let path = self.dir().join(path);
        fs::write(&path, contents).expect("write a site file");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("make the site file readable");
        path
    }

    /// Writes `htdocs/NAME` as an executable CGI script.
    pub fn cgi(&self, name: &str, script: &str) -> PathBuf {
        let path = self.dir().join("htdocs").join(name);
        fs::write(&path, script).expect("write a CGI script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("make the CGI script executable");
        path
    }

    /// Starts `apache2 -f conf/httpd.conf -DFOREGROUND` with the base configuration plus `site` (the site's
    /// own directives: aliases, `<Location>` blocks), and waits until it accepts connections.
    pub fn start(&mut self, site: &str) {
        let conf = self.dir().join("conf/httpd.conf");
        fs::write(&conf, format!("{}\n{site}\n", self.base_config())).expect("write httpd.conf");
        let mut command = Command::new(&self.apache2);
        command.arg("-f").arg(&conf).arg("-DFOREGROUND").envs(self.env());
        // Its own process group: at shutdown Apache signals its whole group, which would otherwise be the tests'.
        command.process_group(0);
        let port = self.port;
        let startup = self.daemon.start(&mut command, || {
            TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), PROBE_TIMEOUT).is_ok()
        });
        // The port was free a moment ago, and the site's metadata names it: no retry on another one.
        assert_eq!(startup, Startup::Ready, "port {port} was taken before Apache could bind it");
    }

    /// Everything Apache and its modules logged (`logs/error.log`, then what went to the console at start).
    pub fn error_log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir().join("logs").join(name)).unwrap_or_default();
        format!("{}{}", read("error.log"), read("console.log"))
    }

    /// `APACHE_*` as Debian's `/etc/apache2/envvars` sets them, all inside the server root: Debian's
    /// `apache2` reads them when a configuration names them, and its own must never be used.
    fn env(&self) -> Vec<(String, PathBuf)> {
        let dir = self.dir();
        [
            ("APACHE_RUN_DIR", dir.join("run")),
            ("APACHE_LOCK_DIR", dir.join("run")),
            ("APACHE_LOG_DIR", dir.join("logs")),
            ("APACHE_PID_FILE", dir.join("run/apache2.pid")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn base_config(&self) -> String {
        let dir = self.dir().display().to_string();
        let mut conf = format!(
            "ServerRoot \"{dir}\"\n\
             ServerName 127.0.0.1:{port}\n\
             Listen 127.0.0.1:{port}\n\
             PidFile \"{dir}/run/apache2.pid\"\n\
             DefaultRuntimeDir \"{dir}/run\"\n\
             Mutex file:{dir}/run default\n\
             ErrorLog \"{dir}/logs/error.log\"\n\
             LogLevel warn auth_mellon:info\n\
             TypesConfig /etc/mime.types\n\
             StartServers 1\nMinSpareServers 1\nMaxSpareServers 3\n\
             DocumentRoot \"{dir}/htdocs\"\n",
            port = self.port,
        );
        for (name, file) in LOAD {
            conf.push_str(&format!("LoadModule {name} {MODULES}/{file}\n"));
        }
        // Started as root, Apache's children drop to a user (Debian's is www-data); otherwise they stay ours.
        if fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            conf.push_str("User www-data\nGroup www-data\n");
        }
        conf
    }

    /// `apache2 -k stop` (SIGTERM to the parent, which stops its children), waiting for it to exit.
    fn stop(&mut self) {
        let (conf, env) = (self.root.path().join("conf/httpd.conf"), self.env());
        let Some(child) = self.daemon.child.as_mut() else { return };
        if matches!(child.try_wait(), Ok(None)) {
            let _ = Command::new(&self.apache2).arg("-f").arg(&conf).args(["-k", "stop"]).envs(env).output();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.daemon.stop();
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        if std::thread::panicking() && self.daemon.child.is_some() {
            eprintln!("--- Apache's error log ({}) ---\n{}--- end ---", self.dir().display(), self.error_log());
        }
        self.stop();
    }
}

/// `apache2` (Debian keeps it in /usr/sbin, often not on a user's `PATH`).
fn find_apache2() -> PathBuf {
    installed("apache2").unwrap_or_else(|| panic!("`apache2` is not installed: {INSTALL}"))
}
