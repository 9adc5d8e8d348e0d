//! The node's counters, grouped by the protocol they count.

/// Counters of everything the node saw and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Ethernet frames in and out, whatever their protocol.
    pub link: LinkStats,
    /// name-ARP (ethertype 0xFFFE).
    pub name_arp: ResolutionStats,
    /// RFC 826 ARP (ethertype 0x0806).
    pub arp: ResolutionStats,
    /// IPv6 neighbour discovery (ICMPv6 in ethertype 0x86DD).
    pub ndp: ResolutionStats,
    /// Data frames (ethertype 0xFFFD).
    pub data: DataStats,
}

impl Stats {
    /// Received frames the node itself dealt with, each counted once by
    /// what became of it. Every received frame is here, or in `link.rx_frames`
    /// alone when a hosted service took it (services count their own).
    pub fn rx_accounted(&self) -> u64 {
        let link = &self.link;
        link.rx_truncated
            + link.rx_malformed
            + link.rx_foreign
            + link.rx_own
            + link.rx_not_for_us
            + self.name_arp.rx_accounted()
            + self.arp.rx_accounted()
            + self.ndp.rx_accounted()
            + self.data.rx
    }
}

impl ResolutionStats {
    /// Received packets, each counted once by what became of it.
    pub fn rx_accounted(&self) -> u64 {
        self.rx_malformed
            + self.rx_requests_for_others
            + self.rx_unsolicited_replies
            + self.rx_mismatched_replies
            + self.rx_repeated_replies
            + self.rx_answers
            + self.rx_claims
            + self.replies_sent
            + self.requests_unanswered
    }
}

/// Frames as the link sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    /// Frames received from the device.
    pub rx_frames: u64,
    /// Frames that did not fit the receive buffer, dropped.
    pub rx_truncated: u64,
    /// Frames too short for an Ethernet header or from a group address.
    pub rx_malformed: u64,
    /// Frames of ethertypes neither the node nor its services speak.
    pub rx_foreign: u64,
    /// Frames carrying the node's own source MAC (loops, duplicates).
    pub rx_own: u64,
    /// Frames unicast to another station.
    pub rx_not_for_us: u64,
    /// Frames handed to the device.
    pub tx_frames: u64,
    /// Times the device was too busy to take a frame (queued frames are
    /// sent later; a request is covered by its retry timer).
    pub tx_busy: u64,
}

/// A resolution protocol: name-ARP, ARP or IPv6 neighbour discovery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResolutionStats {
    /// Bodies that failed to parse, dropped.
    pub rx_malformed: u64,
    /// Requests for names or addresses not the node's.
    pub rx_requests_for_others: u64,
    /// Replies nobody asked for (ignored, never cached).
    pub rx_unsolicited_replies: u64,
    /// Replies whose body names another MAC than the frame's source
    /// (dropped: a station answers for itself).
    pub rx_mismatched_replies: u64,
    /// Replies repeating the answer already taken, from the same MAC.
    pub rx_repeated_replies: u64,
    /// Replies to this node's resolutions: first answers (cached) and
    /// second answers from another MAC (a conflict, also in `conflicts`).
    pub rx_answers: u64,
    /// Packets from another station claiming one of this node's own
    /// addresses (ARP and NDP: reported, never merged).
    pub rx_claims: u64,
    /// Requests for this node left unanswered because the device was busy
    /// (the requester asks again).
    pub requests_unanswered: u64,
    /// Another MAC for a name or address: a second answer to one
    /// resolution, or (ARP) a request from a cached address with another
    /// MAC.
    pub conflicts: u64,
    /// Requests sent.
    pub requests_sent: u64,
    /// Replies sent.
    pub replies_sent: u64,
    /// Resolutions that ran out of attempts.
    pub failures: u64,
}

/// Data frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DataStats {
    /// Data frames delivered to the application.
    pub rx: u64,
    /// Data frames sent.
    pub tx: u64,
    /// Queued data frames dropped because their peer never resolved.
    pub queue_drops: u64,
}
