use std::fmt;
use std::path::PathBuf;

/// What can go wrong with libpcap, phrased so the user knows what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The capture file does not exist.
    FileNotFound(PathBuf),
    /// The path is a directory.
    IsDirectory(PathBuf),
    /// libpcap could not read the file as a capture.
    UnreadableCapture {
        /// The file.
        path: PathBuf,
        /// libpcap's reason.
        reason: String,
    },
    /// The capture ends in the middle of a frame record.
    TruncatedCapture {
        /// The file.
        path: PathBuf,
        /// Frames read before the damage.
        frames_read: u64,
    },
    /// The capture or interface is not Ethernet.
    NotEthernet {
        /// The file or interface.
        source: String,
        /// libpcap's name for its link type.
        linktype: String,
    },
    /// Capturing needs privileges.
    PermissionDenied {
        /// The interface.
        interface: String,
    },
    /// No interface has this name.
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The interfaces libpcap knows.
        available: Vec<String>,
    },
    /// The interface being captured on no longer exists (deleted, or moved
    /// to another network namespace).
    InterfaceGone {
        /// The interface.
        name: String,
    },
    /// The interface's MAC address could not be found.
    UnknownMac {
        /// The interface.
        interface: String,
    },
    /// A frame longer than the interface carries.
    FrameTooLong {
        /// Frame length.
        len: usize,
        /// Largest frame the interface carries.
        max: usize,
    },
    /// Writing a capture file failed.
    Write {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: String,
    },
    /// A system call failed.
    Io {
        /// What was being done.
        context: &'static str,
        /// The system error.
        source: std::io::Error,
    },
    /// Any other libpcap failure.
    Pcap {
        /// What was being done.
        context: &'static str,
        /// libpcap's error.
        source: pcap::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FileNotFound(path) => write!(f, "{}: no such file; check the path", path.display()),
            Error::IsDirectory(path) => write!(f, "{} is a directory; give a capture file", path.display()),
            Error::UnreadableCapture { path, reason } => {
                write!(f, "{} is not a capture libpcap can read ({reason}); give a pcap or pcapng file", path.display())
            }
            Error::TruncatedCapture { path, frames_read } => write!(
                f,
                "{} is truncated: it ends inside a frame record after {frames_read} whole frames",
                path.display()
            ),
            Error::NotEthernet { source, linktype } => {
                write!(f, "{source} has link type {linktype}; whohas needs Ethernet (EN10MB)")
            }
            Error::PermissionDenied { interface } => write!(
                f,
                "capturing on {interface} needs CAP_NET_RAW and CAP_NET_ADMIN: run as root, or grant them with \
                 `sudo setcap cap_net_raw,cap_net_admin+ep <path to the binary>`"
            ),
            Error::NoSuchInterface { name, available } => {
                write!(f, "no interface named {name:?}; available: {}", available.join(", "))
            }
            Error::InterfaceGone { name } => {
                write!(f, "interface {name} is gone (deleted, or moved to another network namespace)")
            }
            Error::UnknownMac { interface } => {
                write!(f, "cannot find the MAC address of {interface}; give it with --mac")
            }
            Error::FrameTooLong { len, max } => {
                write!(f, "a {len}-byte frame does not fit the interface (at most {max} bytes)")
            }
            Error::Write { path, reason } => write!(f, "cannot write {}: {reason}", path.display()),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Pcap { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Pcap { source, .. } => Some(source),
            _ => None,
        }
    }
}
