use std::fmt;
use std::io;

/// What can go wrong with a raw socket, phrased so the user knows what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Raw sockets need `CAP_NET_RAW`.
    PermissionDenied {
        /// The interface being opened.
        interface: String,
    },
    /// No interface has this name.
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The interfaces that do exist.
        available: Vec<String>,
    },
    /// The interface is administratively down.
    InterfaceDown {
        /// The interface.
        name: String,
    },
    /// The interface the device was bound to no longer exists (deleted, or
    /// moved to another network namespace).
    InterfaceGone {
        /// The interface.
        name: String,
    },
    /// The interface is not an Ethernet interface.
    NotEthernet {
        /// The interface.
        name: String,
        /// Its ARPHRD_* hardware type.
        hardware_type: u16,
    },
    /// The interface MTU is below what the caller needs.
    MtuTooSmall {
        /// The interface.
        name: String,
        /// Its MTU.
        mtu: usize,
        /// The MTU needed.
        needed: usize,
    },
    /// A frame longer than the interface carries.
    FrameTooLong {
        /// Frame length.
        len: usize,
        /// Largest frame the interface carries.
        max: usize,
    },
    /// Any other system call failure.
    Io {
        /// What was being done.
        context: &'static str,
        /// The system error.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: &'static str, errno: nix::errno::Errno) -> Self {
        Error::Io { context, source: io::Error::from(errno) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PermissionDenied { interface } => write!(
                f,
                "opening a raw socket on {interface} needs CAP_NET_RAW: run as root, or grant it once with \
                 `sudo setcap cap_net_raw+ep <path to the binary>`"
            ),
            Error::NoSuchInterface { name, available } => {
                write!(f, "no interface named {name:?}; available: {}", available.join(", "))
            }
            Error::InterfaceDown { name } => {
                write!(f, "interface {name} is down: bring it up with `ip link set {name} up`")
            }
            Error::InterfaceGone { name } => {
                write!(f, "interface {name} is gone (deleted, or moved to another network namespace)")
            }
            Error::NotEthernet { name, hardware_type } => write!(
                f,
                "interface {name} is not Ethernet (hardware type {hardware_type}); choose an Ethernet or veth interface"
            ),
            Error::MtuTooSmall { name, mtu, needed } => write!(
                f,
                "interface {name} has MTU {mtu} but {needed} is needed: raise it with `ip link set {name} mtu {needed}`"
            ),
            Error::FrameTooLong { len, max } => {
                write!(f, "a {len}-byte frame does not fit the interface (at most {max} bytes)")
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
