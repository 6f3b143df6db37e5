//! A throwaway Dovecot: its configuration, sockets, state, log and mail all live in one temporary
//! directory, it listens on 127.0.0.1 only, and `doveadm stop` ends it on drop. The system's own
//! Dovecot configuration and services are never read or touched (`-c` names our file).
//!
//! Run as root (as CI does), Dovecot still refuses to store mail as root, so the mail belongs to
//! `nobody` and the temporary directory is handed to that user; run as a normal user, everything
//! runs as that user.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use growdesk_domain::mail::{AfterImport, ImapSettings, TransportSecurity};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use super::lmtp;
use super::tls::ServerCert;

/// How long Dovecot gets to start listening (it starts in well under a second; the margin is
/// for a loaded CI machine).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Mails per MULTIAPPEND command of `append`.
const APPEND_BATCH: usize = 500;

/// A running throwaway Dovecot with IMAP and LMTP on 127.0.0.1.
pub struct Dovecot {
    pub imap_port: u16,
    pub lmtp_port: u16,
    /// IMAP over implicit TLS, when started with a certificate (`start_tls`).
    pub imaps_port: Option<u16>,
    passwords: BTreeMap<String, String>,
    config: PathBuf,
    dir: TempDir,
}

impl std::fmt::Debug for Dovecot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dovecot(imap {}, lmtp {}, {})",
            self.imap_port,
            self.lmtp_port,
            self.dir.path().display()
        )
    }
}

impl Dovecot {
    /// Starts a Dovecot with one mailbox (INBOX and an `Archive` folder) per user — full
    /// addresses such as `support@example.test` — each with a random password (`password`).
    /// Plus-addressed mail (`support+t42@…`) is delivered to the user before the `+`.
    pub async fn start(users: &[&str]) -> io::Result<Self> {
        Self::launch(users, None, None).await
    }

    /// As `start`, presenting `cert`: implicit TLS on `imaps_port` and STARTTLS on `imap_port`
    /// (which still takes plain logins, for `append` and a client that does not encrypt).
    pub async fn start_tls(users: &[&str], cert: &ServerCert) -> io::Result<Self> {
        Self::launch(users, None, Some(cert)).await
    }

    /// As `start`, but the server announces only IMAP4rev1 (no IDLE, MOVE or UIDPLUS), for the
    /// clients' polling and COPY/EXPUNGE paths.
    pub async fn start_basic(users: &[&str]) -> io::Result<Self> {
        Self::launch(
            users,
            Some("IMAP4rev1 LITERAL+ SASL-IR ID ENABLE NAMESPACE"),
            None,
        )
        .await
    }

    async fn launch(
        users: &[&str],
        capabilities: Option<&str>,
        cert: Option<&ServerCert>,
    ) -> io::Result<Self> {
        for user in users {
            let valid = !user.is_empty()
                && user
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b'-' | b'_'));
            if !valid {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("not a test user name: {user:?}"),
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("growdesk-dovecot-")
            .tempdir()?;
        let owner = fs::metadata(dir.path())?;
        let passwords: BTreeMap<String, String> = users
            .iter()
            .map(|user| (user.to_string(), uuid::Uuid::now_v7().simple().to_string()))
            .collect();
        let passwd: String = passwords
            .iter()
            .map(|(user, password)| format!("{user}:{{PLAIN}}{password}\n"))
            .collect();
        fs::write(dir.path().join("passwd"), passwd)?;
        fs::create_dir(dir.path().join("home"))?;
        let tls = cert.map(|cert| cert.write(dir.path())).transpose()?;
        let accounts = if owner.uid() == 0 {
            let mail = system_user("nobody")?;
            chown_tree(dir.path(), mail.uid, mail.gid)?;
            // Dovecot's unprivileged processes reach the sockets and homes through it.
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
            Accounts {
                mail,
                internal: "dovecot".to_owned(),
                login: "dovenull".to_owned(),
                root: true,
            }
        } else {
            let me = system_user_by_uid(owner.uid())?;
            Accounts {
                internal: me.name.clone(),
                login: me.name.clone(),
                mail: me,
                root: false,
            }
        };
        let config = dir.path().join("dovecot.conf");
        // The ports were free when chosen; a test running beside this one may take one before
        // Dovecot binds it, and then another pair is tried.
        let mut attempts = 0;
        let ports = loop {
            attempts += 1;
            let [imap, lmtp, imaps] = free_ports()?;
            let ports = Ports {
                imap,
                lmtp,
                imaps: tls.as_ref().map(|_| imaps),
            };
            fs::write(
                &config,
                configuration(dir.path(), &accounts, &ports, capabilities, tls.as_ref()),
            )?;
            match start(&config, dir.path()) {
                Ok(()) => break ports,
                Err(error) if attempts >= 3 => return Err(error),
                Err(_) => {}
            }
        };
        let dovecot = Self {
            imap_port: ports.imap,
            lmtp_port: ports.lmtp,
            imaps_port: ports.imaps,
            passwords,
            config,
            dir,
        };
        dovecot.wait_until_listening().await?;
        Ok(dovecot)
    }

    /// The password of `user`.
    pub fn password(&self, user: &str) -> &str {
        self.passwords
            .get(user)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{user} is not a user of this Dovecot"))
    }

    /// IMAP settings of `user`'s INBOX on this server (no TLS), marking imported mail seen.
    pub fn imap_settings(&self, user: &str) -> ImapSettings {
        self.imap_settings_over(user, TransportSecurity::None)
    }

    /// As `imap_settings`, over `security` (the port that offers it). Implicit TLS needs a
    /// Dovecot started with `start_tls`.
    pub fn imap_settings_over(&self, user: &str, security: TransportSecurity) -> ImapSettings {
        let port = match security {
            TransportSecurity::Tls => self
                .imaps_port
                .unwrap_or_else(|| panic!("this Dovecot was started without TLS")),
            TransportSecurity::StartTls | TransportSecurity::None => self.imap_port,
        };
        ImapSettings {
            host: "127.0.0.1".to_owned(),
            port,
            security,
            username: user.to_owned(),
            folder: "INBOX".to_owned(),
            after_import: AfterImport::MarkSeen,
        }
    }

    /// Delivers `raw` to `to`'s INBOX through LMTP, as a mail server would.
    pub async fn deliver(&self, to: &str, raw: &[u8]) -> io::Result<()> {
        self.deliver_from("sender@example.test", to, raw).await
    }

    pub(crate) async fn deliver_from(&self, from: &str, to: &str, raw: &[u8]) -> io::Result<()> {
        match lmtp::deliver(self.lmtp_port, from, to, raw).await? {
            Ok(()) => Ok(()),
            Err(refused) => Err(io::Error::other(format!(
                "LMTP refused the mail to {to}: {} {}",
                refused.code, refused.text
            ))),
        }
    }

    /// Appends every mail of `raws` to `user`'s `folder` over one IMAP session: the fast way to
    /// fill a mailbox with thousands of messages. Mails go in MULTIAPPEND commands of
    /// `APPEND_BATCH` with non-synchronising literals (RFC 3502, RFC 7888), so that Dovecot
    /// stores each batch in one transaction instead of one per mail (about 6 ms each).
    pub async fn append<R: AsRef<[u8]>>(
        &self,
        user: &str,
        folder: &str,
        raws: &[R],
    ) -> io::Result<()> {
        if folder.is_empty() || folder.contains(['"', '\\', '\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a test folder name: {folder:?}"),
            ));
        }
        let stream = TcpStream::connect(("127.0.0.1", self.imap_port)).await?;
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        let mut greeting = String::new();
        reader.read_line(&mut greeting).await?;
        let login = format!("l LOGIN \"{user}\" \"{}\"\r\n", self.password(user));
        writer.write_all(login.as_bytes()).await?;
        tagged(&mut reader, "l").await?;
        for (number, batch) in raws.chunks(APPEND_BATCH).enumerate() {
            let tag = format!("a{number}");
            writer
                .write_all(format!("{tag} APPEND \"{folder}\"").as_bytes())
                .await?;
            for raw in batch {
                let raw = raw.as_ref();
                writer
                    .write_all(format!(" {{{}+}}\r\n", raw.len()).as_bytes())
                    .await?;
                writer.write_all(raw).await?;
            }
            writer.write_all(b"\r\n").await?;
            tagged(&mut reader, &tag).await?;
        }
        writer.write_all(b"z LOGOUT\r\n").await?;
        tagged(&mut reader, "z").await
    }

    pub(crate) fn passwords(&self) -> &BTreeMap<String, String> {
        &self.passwords
    }

    /// The Maildir of `user`: where the mail files are.
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.path().join("home").join(user).join("Maildir")
    }

    async fn wait_until_listening(&self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        for port in [self.imap_port, self.lmtp_port] {
            loop {
                if greets(port).await {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "dovecot did not listen on {port}{}",
                            log_tail(self.dir.path())
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // `doveadm stop` signals the master; wait for its pid file to go so that the directory
        // is not removed under a process still writing in it.
        let stopped = Command::new("doveadm")
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
        if stopped.is_ok_and(|output| output.status.success()) {
            let pid = self.dir.path().join("run").join("master.pid");
            let deadline = Instant::now() + Duration::from_secs(10);
            while pid.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Starts the Dovecot of `config`. It daemonises and its master keeps the descriptors it was
/// given: its errors go to a file, never to a pipe this process would wait on for ever.
fn start(config: &Path, dir: &Path) -> io::Result<()> {
    let errors = dir.join("start.err");
    let status = Command::new("dovecot")
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&errors)?)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "dovecot did not start: {}{}",
            fs::read_to_string(&errors).unwrap_or_default(),
            log_tail(dir)
        )))
    }
}

/// Reads the server's lines up to the tagged answer to `tag`: `Err` unless it is OK.
async fn tagged(reader: &mut BufReader<OwnedReadHalf>, tag: &str) -> io::Result<()> {
    let prefix = format!("{tag} ");
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Dovecot closed the IMAP connection",
            ));
        }
        if let Some(answer) = line.strip_prefix(&prefix) {
            return if answer.starts_with("OK") {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "Dovecot answered {}",
                    line.trim_end()
                )))
            };
        }
    }
}

/// Whether a server on 127.0.0.1:`port` accepts a connection and says something.
async fn greets(port: u16) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(_))
    )
}

struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

struct Accounts {
    /// Owns the mail files.
    mail: SystemUser,
    /// Dovecot's own unprivileged processes (`default_internal_user`).
    internal: String,
    /// The login processes (`default_login_user`).
    login: String,
    /// Whether Dovecot runs as root (and can chroot and chown).
    root: bool,
}

fn system_users() -> io::Result<Vec<SystemUser>> {
    Ok(fs::read_to_string("/etc/passwd")?
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?.to_owned();
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(SystemUser { name, uid, gid })
        })
        .collect())
}

fn system_user(name: &str) -> io::Result<SystemUser> {
    system_users()?
        .into_iter()
        .find(|user| user.name == name)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no user {name}")))
}

fn system_user_by_uid(uid: u32) -> io::Result<SystemUser> {
    system_users()?
        .into_iter()
        .find(|user| user.uid == uid)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no user of uid {uid}")))
}

fn chown_tree(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    if path.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Two ports free on 127.0.0.1 now (held together so that they differ).
/// Three ports free on 127.0.0.1 (all held while the others are chosen, so they differ).
fn free_ports() -> io::Result<[u16; 3]> {
    let listeners = [
        std::net::TcpListener::bind(("127.0.0.1", 0))?,
        std::net::TcpListener::bind(("127.0.0.1", 0))?,
        std::net::TcpListener::bind(("127.0.0.1", 0))?,
    ];
    let mut ports = [0; 3];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// Where the Dovecot listens.
struct Ports {
    imap: u16,
    lmtp: u16,
    /// Implicit TLS, when it has a certificate.
    imaps: Option<u16>,
}

fn configuration(
    dir: &Path,
    accounts: &Accounts,
    ports: &Ports,
    capabilities: Option<&str>,
    tls: Option<&(PathBuf, PathBuf)>,
) -> String {
    // Without TLS the imaps listener is off (port 0); with it, STARTTLS is offered on the plain
    // port too.
    let (ssl, imaps_port) = match (tls, ports.imaps) {
        (Some((cert, key)), Some(port)) => (
            format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                cert.display(),
                key.display()
            ),
            port,
        ),
        _ => ("ssl = no\n".to_owned(), 0),
    };
    let imap_port = ports.imap;
    let lmtp_port = ports.lmtp;
    let dir = dir.display();
    // A normal user can neither chroot nor give sockets to the `dovecot` group, which Dovecot's
    // defaults do for these services.
    let unprivileged = if accounts.root {
        ""
    } else {
        "service anvil {\n  chroot =\n}\n\
         service stats {\n  unix_listener stats-writer {\n    group =\n  }\n}\n\
         service imap-hibernate {\n  unix_listener imap-hibernate {\n    group =\n  }\n}\n\
         service dict {\n  unix_listener dict {\n    group =\n  }\n}\n\
         service dict-async {\n  unix_listener dict-async {\n    group =\n  }\n}\n"
    };
    let login_chroot = if accounts.root { "" } else { "  chroot =\n" };
    let capability = capabilities
        .map(|list| format!("protocol imap {{\n  imap_capability = {list}\n}}\n"))
        .unwrap_or_default();
    format!(
        r#"# A throwaway Dovecot of GrowDesk's tests: everything under {dir}.
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
# Test mail need not survive a power cut; fsyncs would make seeding 10,000 messages slow.
mail_fsync = never
recipient_delimiter = +
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
{login_chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@example.test
}}
namespace inbox {{
  inbox = yes
  mailbox Archive {{
    auto = create
  }}
}}
{unprivileged}{capability}"#,
        internal = accounts.internal,
        login = accounts.login,
        uid = accounts.mail.uid,
        gid = accounts.mail.gid,
    )
}

fn log_tail(dir: &Path) -> String {
    let log = fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    format!("\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
}
