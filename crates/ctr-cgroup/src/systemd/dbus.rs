//! [`Systemd`] over D-Bus with zbus: the system bus
//! (`$DBUS_SYSTEM_BUS_ADDRESS` or `/run/dbus/system_bus_socket`), else
//! systemd's private socket `/run/systemd/private` (root only, no bus
//! daemon needed), as systemctl does. One connection per [`DbusSystemd`],
//! made on first use; its calls run on zbus's own small executor (no tokio).

use super::props::{Property, Value};
use super::Systemd;
use crate::Code;
use ctr_common::Error;
use futures_lite::StreamExt;
use std::sync::Mutex;
use std::time::Duration;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// The system bus socket when `$DBUS_SYSTEM_BUS_ADDRESS` is not set.
pub const SYSTEM_BUS_SOCKET: &str = "/run/dbus/system_bus_socket";
/// systemd's own socket (what systemctl uses as root).
pub const PRIVATE_SOCKET: &str = "/run/systemd/private";
/// How long a start or stop job may take (runc waits 30 s too).
const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// systemd reached over D-Bus.
#[derive(Default)]
pub struct DbusSystemd {
    conn: Mutex<Option<zbus::Connection>>,
    /// A bus address instead of the system bus's (tests).
    address: Option<String>,
}

fn unavailable(socket: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        Code::SystemdUnavailable,
        format!("the systemd cgroup driver cannot reach systemd over d-bus at {socket}: {why} (is systemd PID 1 with its d-bus socket?)"),
    )
    .with_path(socket)
}

fn failed(what: &str, e: zbus::Error) -> Error {
    let code = match &e {
        zbus::Error::MethodError(name, ..)
            if name.as_str() == "org.freedesktop.systemd1.UnitExists" =>
        {
            Code::Exists.as_str()
        }
        zbus::Error::MethodError(name, ..)
            if name.as_str() == "org.freedesktop.DBus.Error.AccessDenied" =>
        {
            Code::Permission.as_str()
        }
        _ => Code::Systemd.as_str(),
    };
    Error::new(code, format!("{what}: {e}")).with_syscall("d-bus")
}

fn is_no_such_unit(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::MethodError(name, ..) if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" || name.as_str() == "org.freedesktop.systemd1.LoadFailed")
}

fn to_zvalue(v: &Value) -> zbus::zvariant::Value<'static> {
    use zbus::zvariant::Value as Z;
    match v {
        Value::Bool(b) => Z::Bool(*b),
        Value::U64(n) => Z::U64(*n),
        Value::Str(s) => Z::from(s.clone()),
        Value::U32s(v) => Z::from(v.clone()),
        Value::Bytes(v) => Z::from(v.clone()),
    }
}

impl DbusSystemd {
    /// A handle; nothing is connected until the first call.
    pub fn new() -> DbusSystemd {
        DbusSystemd::default()
    }

    /// A handle on the bus at `address` (`unix:path=...`), with the same
    /// fallback to systemd's private socket.
    pub fn at(address: &str) -> DbusSystemd {
        DbusSystemd {
            address: Some(address.to_string()),
            ..Default::default()
        }
    }

    async fn connect(address: Option<String>) -> Result<zbus::Connection, Error> {
        let (addr, socket) = match address
            .ok_or(())
            .or_else(|_| std::env::var("DBUS_SYSTEM_BUS_ADDRESS"))
        {
            Ok(a) if !a.is_empty() => {
                let socket = a
                    .strip_prefix("unix:path=")
                    .map(|s| s.split(',').next().unwrap_or(s).to_string())
                    .unwrap_or_else(|| a.clone());
                (a, socket)
            }
            _ => (
                format!("unix:path={SYSTEM_BUS_SOCKET}"),
                SYSTEM_BUS_SOCKET.to_string(),
            ),
        };
        let bus_err = match zbus::connection::Builder::address(addr.as_str()) {
            Ok(b) => match b.build().await {
                Ok(c) => return Ok(c),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        // No bus daemon: systemd's private socket speaks D-Bus peer to peer.
        if std::path::Path::new(PRIVATE_SOCKET).exists() {
            let stream = std::os::unix::net::UnixStream::connect(PRIVATE_SOCKET)
                .map_err(|e| unavailable(PRIVATE_SOCKET, e))?;
            return zbus::connection::Builder::async_io_unix_stream(stream)
                .p2p()
                .build()
                .await
                .map_err(|e| unavailable(PRIVATE_SOCKET, e));
        }
        Err(unavailable(
            &socket,
            format!("{bus_err}; and no {PRIVATE_SOCKET}"),
        ))
    }

    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&zbus::Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        async_io::block_on(async {
            let conn = {
                let cached = self.conn.lock().unwrap().clone();
                match cached {
                    Some(c) => c,
                    None => {
                        let c = Self::connect(self.address.clone()).await?;
                        *self.conn.lock().unwrap() = Some(c.clone());
                        c
                    }
                }
            };
            f(&conn).await
        })
    }

    async fn call<B>(conn: &zbus::Connection, method: &str, body: &B) -> zbus::Result<zbus::Message>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        conn.call_method(Some(DEST), PATH, Some(MANAGER), method, body)
            .await
    }

    /// Call `method` (which returns a job), then wait for that job's
    /// JobRemoved signal; its result (`done`, `failed`, ...).
    async fn job<B>(conn: &zbus::Connection, method: &str, body: &B) -> zbus::Result<String>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        // Subscribed before the call, so the signal cannot be missed.
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(MANAGER)?
            .member("JobRemoved")?
            .path(PATH)?
            .build();
        let mut signals = zbus::MessageStream::for_match_rule(rule, conn, Some(64)).await?;
        // systemd only sends signals to clients that subscribed.
        let _ = Self::call(conn, "Subscribe", &()).await;
        let job: OwnedObjectPath = Self::call(conn, method, body).await?.body().deserialize()?;
        let wait = async {
            while let Some(m) = signals.next().await {
                let m = m?;
                if let Ok((_, path, _, result)) = m
                    .body()
                    .deserialize::<(u32, OwnedObjectPath, String, String)>()
                {
                    if path == job {
                        return Ok(result);
                    }
                }
            }
            Ok("disconnected".to_string())
        };
        let timeout = async {
            async_io::Timer::after(JOB_TIMEOUT).await;
            Ok("timeout waiting for the job".to_string())
        };
        futures_lite::future::or(wait, timeout).await
    }
}

impl Systemd for DbusSystemd {
    fn version(&self) -> Result<u32, Error> {
        self.run(async |conn| {
            let m = conn
                .call_method(
                    Some(DEST),
                    PATH,
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &(MANAGER, "Version"),
                )
                .await
                .map_err(|e| failed("read systemd's version", e))?;
            let v: OwnedValue = m
                .body()
                .deserialize()
                .map_err(|e| failed("read systemd's version", e))?;
            let s: String = v.try_into().unwrap_or_default();
            // "252.22-1~deb12u1", "v255"
            Ok(s.trim_start_matches('v')
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>()
                .parse()
                .unwrap_or(0))
        })
    }

    fn start_transient_unit(&self, name: &str, props: &[Property]) -> Result<(), Error> {
        let props: Vec<(String, zbus::zvariant::Value<'static>)> = props
            .iter()
            .map(|(n, v)| (n.clone(), to_zvalue(v)))
            .collect();
        let aux: Vec<(String, Vec<(String, zbus::zvariant::Value<'static>)>)> = Vec::new();
        self.run(async |conn| {
            let what = format!("start the transient unit {name}");
            let result = Self::job(conn, "StartTransientUnit", &(name, "fail", props, aux))
                .await
                .map_err(|e| failed(&what, e))?;
            if result != "done" {
                return Err(Error::new(
                    Code::Systemd,
                    format!("{what}: the job ended with {result:?}"),
                )
                .with_syscall("d-bus"));
            }
            Ok(())
        })
    }

    fn stop_unit(&self, name: &str) -> Result<(), Error> {
        self.run(async |conn| {
            let what = format!("stop the unit {name}");
            match Self::job(conn, "StopUnit", &(name, "replace")).await {
                Ok(r) if r == "done" || r == "skipped" => Ok(()),
                Ok(r) => Err(Error::new(
                    Code::Systemd,
                    format!("{what}: the job ended with {r:?}"),
                )
                .with_syscall("d-bus")),
                Err(e) if is_no_such_unit(&e) => Ok(()),
                Err(e) => Err(failed(&what, e)),
            }
        })
    }

    fn reset_failed_unit(&self, name: &str) -> Result<(), Error> {
        self.run(
            async |conn| match Self::call(conn, "ResetFailedUnit", &(name,)).await {
                Ok(_) => Ok(()),
                Err(e) if is_no_such_unit(&e) => Ok(()),
                Err(e) => Err(failed(&format!("reset the failed unit {name}"), e)),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bus_is_a_coded_error_naming_the_socket() {
        if std::path::Path::new(PRIVATE_SOCKET).exists() {
            println!(
                "skipped: {PRIVATE_SOCKET} exists (systemd runs here), the fallback would answer"
            );
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("system_bus_socket");
        let bus = DbusSystemd::at(&format!("unix:path={}", sock.display()));
        let e = bus.version().unwrap_err();
        assert_eq!(e.code, Code::SystemdUnavailable.as_str(), "{e:?}");
        assert_eq!(e.path.as_deref(), Some(sock.to_str().unwrap()));
        assert!(e.message.contains("systemd"), "{}", e.message);
    }
}
