-- Wireshark/tshark dissector for whohas' protocols (docs/PROTOCOL.md):
--   ethertype 0xFFFE  name-ARP  "Who has NAME?" / "NAME is at MAC"
--   ethertype 0xFFFD  data      a raw message
--   ethertype 0x88B5  transfer  the reliable transfer (SYN, DATA, ACK…)
--   ethertype 0x88B6  presence  PROBE, ANNOUNCE, GOODBYE
--
-- Use:  tshark -X lua_script:tools/wireshark/whohas.lua -r capture.pcap
-- or copy it to ~/.local/lib/wireshark/plugins/ for Wireshark.
--
-- The Info column matches `whohas decode` exactly; the decode tests compare
-- the two.

local NAME_MAX = 64
local PREVIEW = 48

-- The one escaping rule of whohas (core/src/wire/escape.rs), byte for byte:
-- valid UTF-8 as text, except control characters and the invisible
-- characters that reorder or hide text, which are written as their bytes
-- \xNN each, like every byte that is not UTF-8; a backslash doubled.

-- Length of the well-formed UTF-8 sequence at bytes[i] (Unicode table 3-7),
-- or nil, and its code point.
local function utf8_at(bytes, i, n)
    local b0 = bytes:get_index(i)
    if b0 < 0x80 then return 1, b0 end
    local len, low, high
    if b0 >= 0xc2 and b0 <= 0xdf then len, low, high = 2, 0x80, 0xbf
    elseif b0 == 0xe0 then len, low, high = 3, 0xa0, 0xbf
    elseif (b0 >= 0xe1 and b0 <= 0xec) or b0 == 0xee or b0 == 0xef then len, low, high = 3, 0x80, 0xbf
    elseif b0 == 0xed then len, low, high = 3, 0x80, 0x9f
    elseif b0 == 0xf0 then len, low, high = 4, 0x90, 0xbf
    elseif b0 >= 0xf1 and b0 <= 0xf3 then len, low, high = 4, 0x80, 0xbf
    elseif b0 == 0xf4 then len, low, high = 4, 0x80, 0x8f
    else return nil end
    if i + len > n then return nil end
    local cp = b0 % (2 ^ (7 - len))
    for k = 1, len - 1 do
        local b = bytes:get_index(i + k)
        local lo, hi = 0x80, 0xbf
        if k == 1 then lo, hi = low, high end
        if b < lo or b > hi then return nil end
        cp = cp * 64 + (b - 0x80)
    end
    return len, cp
end

local function must_escape(cp)
    return cp < 0x20 or (cp >= 0x7f and cp <= 0x9f) or cp == 0x061c
        or (cp >= 0x200b and cp <= 0x200f) or (cp >= 0x2028 and cp <= 0x202e)
        or (cp >= 0x2060 and cp <= 0x206f) or cp == 0xfeff or (cp >= 0xfff9 and cp <= 0xfffb)
end

-- The first `limit` bytes of `tvb_range` escaped, then ...(+N bytes) if more.
local function escape(tvb_range, limit)
    local bytes = tvb_range:bytes()
    local total = bytes:len()
    local n = math.min(total, limit or total)
    local out = {}
    local i = 0
    while i < n do
        local len, cp = utf8_at(bytes, i, n)
        if len == nil then
            out[#out + 1] = string.format("\\x%02x", bytes:get_index(i))
            len = 1
        elseif must_escape(cp) then
            for k = 0, len - 1 do
                out[#out + 1] = string.format("\\x%02x", bytes:get_index(i + k))
            end
        elseif cp == 0x5c then
            out[#out + 1] = "\\\\"
        else
            out[#out + 1] = bytes:raw(i, len)
        end
        i = i + len
    end
    if n < total then
        out[#out + 1] = string.format("...(+%d bytes)", total - n)
    end
    return table.concat(out)
end

local name_arp = Proto("namearp", "whohas name-ARP")
local f_len = ProtoField.uint32("namearp.len", "Name length", base.DEC)
local f_mac = ProtoField.ether("namearp.hwaddr", "Hardware address")
local f_name = ProtoField.bytes("namearp.name", "Name")
local f_trailer = ProtoField.bytes("namearp.trailer", "Trailer (struct and Ethernet padding)")
name_arp.fields = { f_len, f_mac, f_name, f_trailer }
local ef_padding = ProtoExpert.new("namearp.padding_not_zero", "Padding not zero (ignored, as the C original's uninitialised padding)",
    expert.group.PROTOCOL, expert.severity.NOTE)
name_arp.experts = { ef_padding }

local function malformed(pinfo, reason)
    pinfo.cols.info = "Malformed: " .. reason
end

function name_arp.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-ARP"
    local body = tvb:len()
    local subtree = tree:add(name_arp, tvb())
    if body < 10 then
        return malformed(pinfo, "buffer shorter than the protocol header")
    end
    local len = tvb(0, 4):le_uint()
    subtree:add_le(f_len, tvb(0, 4))
    subtree:add(f_mac, tvb(4, 6))
    if 10 + len > body then
        return malformed(pinfo, "length field points past the end of the buffer")
    end
    if len == 0 then
        return malformed(pinfo, "name length is zero")
    end
    if len > NAME_MAX then
        return malformed(pinfo, "name length exceeds the name capacity")
    end
    subtree:add(f_name, tvb(10, len))
    -- Bytes after the name (the C struct's uninitialised tail padding,
    -- Ethernet padding) are ignored whatever they hold: a note, not an error.
    if 10 + len < body then
        local trailer = subtree:add(f_trailer, tvb(10 + len))
        for i = 10 + len, body - 1 do
            if tvb(i, 1):uint() ~= 0 then
                trailer:add_proto_expert_info(ef_padding)
                break
            end
        end
    end
    local name = escape(tvb(10, len))
    local mac = tvb(4, 6)
    local zero = true
    for i = 0, 5 do
        if mac(i, 1):uint() ~= 0 then zero = false end
    end
    if zero then
        pinfo.cols.info = "Who has " .. name .. "?"
    elseif bit.band(mac(0, 1):uint(), 1) == 1 then
        return malformed(pinfo, "source address is a group address")
    else
        pinfo.cols.info = name .. " is at " .. tostring(mac:ether())
    end
end

local data = Proto("namedata", "whohas data")
local f_message = ProtoField.bytes("namedata.message", "Message")
data.fields = { f_message }

-- The length of the frame being dissected without a keyed-mode trailer
-- (set by the keyed dissector below), else the frame's.
local frame_len = nil

function data.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-DATA"
    local len = tvb:len()
    -- The trailing zeros of a frame of at most 60 bytes are Ethernet padding.
    if (frame_len or pinfo.len) <= 60 then
        while len > 0 and tvb(len - 1, 1):uint() == 0 do
            len = len - 1
        end
    end
    tree:add(data, tvb()):add(f_message, tvb(0, len))
    local info = string.format("Message (%d bytes)", len)
    if len > 0 then
        info = info .. ": " .. escape(tvb(0, len), PREVIEW)
    end
    pinfo.cols.info = info
end

-- The reliable transfer (core/src/wire/transfer.rs; decode in
-- src/decode/transfer.rs): same checks in the same order, same Info column.

local XFER_HEADER = 28
local XFER_CHECKSUM = 4
local XFER_SEGMENT = 1468
local XFER_KINDS = { "SYN", "SYN-ACK", "DATA", "ACK", "FIN", "FIN-ACK", "RESET", "PING" }

-- CRC-32 (IEEE, reflected, as zlib computes it).
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if bit.band(c, 1) == 1 then
            c = bit.bxor(bit.rshift(c, 1), 0xedb88320)
        else
            c = bit.rshift(c, 1)
        end
    end
    crc_table[i] = c
end

local function crc32_update(crc, bytes)
    for i = 0, bytes:len() - 1 do
        crc = bit.bxor(bit.rshift(crc, 8), crc_table[bit.band(bit.bxor(crc, bytes:get_index(i)), 0xff)])
    end
    return crc
end

local eth_dst = Field.new("eth.dst")
local eth_src = Field.new("eth.src")

local xfer = Proto("namexfer", "whohas reliable transfer")
local xf = {
    version = ProtoField.uint8("namexfer.version", "Version"),
    kind = ProtoField.uint8("namexfer.kind", "Kind"),
    flags = ProtoField.uint8("namexfer.flags", "Flags", base.HEX),
    sack_words = ProtoField.uint8("namexfer.sack_words", "SACK words"),
    conn = ProtoField.uint32("namexfer.conn", "Connection id", base.HEX),
    seq = ProtoField.uint32("namexfer.seq", "Sequence number"),
    ack = ProtoField.uint32("namexfer.ack", "Acknowledgement"),
    window = ProtoField.uint16("namexfer.window", "Window"),
    timestamp = ProtoField.uint32("namexfer.timestamp", "Timestamp"),
    echo = ProtoField.uint32("namexfer.echo", "Echo"),
    length = ProtoField.uint16("namexfer.length", "Payload length"),
    sack = ProtoField.bytes("namexfer.sack", "SACK bitmap"),
    payload = ProtoField.bytes("namexfer.payload", "Payload"),
    checksum = ProtoField.uint32("namexfer.checksum", "CRC-32", base.HEX),
}
xfer.fields = { xf.version, xf.kind, xf.flags, xf.sack_words, xf.conn, xf.seq, xf.ack, xf.window,
    xf.timestamp, xf.echo, xf.length, xf.sack, xf.payload, xf.checksum }

local function popcount(tvb_range)
    local bytes = tvb_range:bytes()
    local count = 0
    for i = 0, bytes:len() - 1 do
        local b = bytes:get_index(i)
        while b > 0 do
            count = count + bit.band(b, 1)
            b = bit.rshift(b, 1)
        end
    end
    return count
end

-- The SYN's Info: the initiator's name, then what the connection carries
-- (src/decode/transfer.rs and src/file_offer.rs).
local function syn_info(info, tvb, at, len, messages)
    if len < 1 then
        return "Malformed: buffer shorter than the protocol header"
    end
    local name_len = tvb(at, 1):uint()
    if name_len == 0 then
        return "Malformed: name length is zero"
    end
    if name_len > NAME_MAX then
        return "Malformed: name length exceeds the name capacity"
    end
    if 1 + name_len > len then
        return "Malformed: length field points past the end of the buffer"
    end
    info = info .. " from " .. escape(tvb(at + 1, name_len))
    local header, header_len = at + 1 + name_len, len - 1 - name_len
    if messages then
        return info .. ", messages"
    end
    -- A file offer: kind 2 (its SHA-256 after the content) puts the name's
    -- length at offset 9, kind 1 (the SHA-256 in the offer) at 41.
    local kind = header_len >= 1 and tvb(header, 1):uint() or 0
    local name_at = (kind == 2 and 10) or (kind == 1 and 42) or nil
    if name_at and header_len >= name_at and header_len == name_at + tvb(header + name_at - 1, 1):uint() then
        local size = tvb(header + 1, 8):uint64()
        local file = header_len > name_at and escape(tvb(header + name_at, header_len - name_at)) or ""
        return info .. ", file " .. file .. " (" .. tostring(size) .. " bytes)"
    end
    if header_len > 0 then
        return string.format("%s, header %d bytes", info, header_len)
    end
    return info
end

function xfer.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-XFER"
    local body = tvb:len()
    local subtree = tree:add(xfer, tvb())
    if body < XFER_HEADER + XFER_CHECKSUM then
        return malformed(pinfo, "buffer shorter than the protocol header")
    end
    local kind = XFER_KINDS[tvb(1, 1):uint()]
    local sack_len = tvb(3, 1):uint() * 8
    if tvb(0, 1):uint() ~= 1 or kind == nil or sack_len > 512 then
        return malformed(pinfo, "unsupported protocol field value")
    end
    local payload_len = tvb(26, 2):uint()
    local payload_at = XFER_HEADER + sack_len
    local payload_end = payload_at + payload_len
    if payload_end + XFER_CHECKSUM > body then
        return malformed(pinfo, "length field points past the end of the buffer")
    end
    local crc = crc32_update(0xffffffff, eth_dst().range:bytes())
    crc = crc32_update(crc, eth_src().range:bytes())
    crc = crc32_update(crc, ByteArray.new("88 b5"))
    crc = crc32_update(crc, tvb(0, payload_end):bytes())
    if bit.tobit(bit.bnot(crc)) ~= bit.tobit(tvb(payload_end, 4):uint()) then
        return malformed(pinfo, "checksum mismatch")
    end
    for i, field in ipairs({ "version", "kind", "flags", "sack_words" }) do
        subtree:add(xf[field], tvb(i - 1, 1))
    end
    subtree:add(xf.conn, tvb(4, 4))
    subtree:add(xf.seq, tvb(8, 4))
    subtree:add(xf.ack, tvb(12, 4))
    subtree:add(xf.window, tvb(16, 2))
    subtree:add(xf.timestamp, tvb(18, 4))
    subtree:add(xf.echo, tvb(22, 4))
    subtree:add(xf.length, tvb(26, 2))
    if sack_len > 0 then subtree:add(xf.sack, tvb(XFER_HEADER, sack_len)) end
    if payload_len > 0 then subtree:add(xf.payload, tvb(payload_at, payload_len)) end
    subtree:add(xf.checksum, tvb(payload_end, 4))

    local info = string.format("%s conn=%08x", kind, tvb(4, 4):uint())
    local seq, ack, window = tvb(8, 4):uint(), tvb(12, 4):uint(), tvb(16, 2):uint()
    local status = payload_len >= 2 and tostring(tvb(payload_at, 2):uint()) or "?"
    if kind == "SYN" then
        info = syn_info(string.format("%s seq=%d", info, seq), tvb, payload_at, payload_len,
            bit.band(tvb(2, 1):uint(), 2) == 2)
    elseif kind == "DATA" then
        info = string.format("%s seq=%d len=%d", info, seq, payload_len)
        -- A payload above one segment is a train (jumbo links).
        if payload_len > XFER_SEGMENT then
            info = string.format("%s (%d segments)", info, math.ceil(payload_len / XFER_SEGMENT))
        end
    elseif kind == "FIN" or kind == "PING" then
        info = string.format("%s seq=%d", info, seq)
    elseif kind == "SYN-ACK" then
        info = string.format("%s ack=%d win=%d", info, ack, window)
        -- The receiver's offer of trains: the longest DATA payload it takes.
        if payload_len >= 2 then
            info = string.format("%s trains<=%d", info, math.max(tvb(payload_at, 2):uint(), XFER_SEGMENT))
        end
    elseif kind == "ACK" then
        info = string.format("%s ack=%d win=%d", info, ack, window)
        local held = sack_len > 0 and popcount(tvb(XFER_HEADER, sack_len)) or 0
        if held > 0 then info = string.format("%s sack=%d", info, held) end
    elseif kind == "FIN-ACK" then
        info = string.format("%s ack=%d status=%s", info, ack, status)
    else
        info = string.format("%s status=%s", info, status)
    end
    pinfo.cols.info = info
end

-- Presence (core/src/wire/presence.rs; decode in src/decode/presence.rs).
local pres = Proto("namepres", "whohas presence")
local pf = {
    kind = ProtoField.uint8("namepres.kind", "Kind"),
    flags = ProtoField.uint8("namepres.flags", "Flags", base.HEX),
    len = ProtoField.uint8("namepres.len", "Name length"),
    epoch = ProtoField.uint32("namepres.epoch", "Epoch", base.HEX),
    expiry = ProtoField.uint16("namepres.expiry", "Expiry (s)"),
    name = ProtoField.bytes("namepres.name", "Name"),
}
pres.fields = { pf.kind, pf.flags, pf.len, pf.epoch, pf.expiry, pf.name }
local PRES_KINDS = { "PROBE", "ANNOUNCE", "GOODBYE" }

function pres.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-PRES"
    local body = tvb:len()
    local subtree = tree:add(pres, tvb())
    if body < 10 then
        return malformed(pinfo, "buffer shorter than the protocol header")
    end
    local kind = PRES_KINDS[tvb(1, 1):uint()]
    if tvb(0, 1):uint() ~= 1 or kind == nil then
        return malformed(pinfo, "unsupported protocol field value")
    end
    local len = tvb(3, 1):uint()
    if len == 0 then
        return malformed(pinfo, "name length is zero")
    end
    if len > NAME_MAX then
        return malformed(pinfo, "name length exceeds the name capacity")
    end
    if 10 + len > body then
        return malformed(pinfo, "length field points past the end of the buffer")
    end
    subtree:add(pf.kind, tvb(1, 1))
    subtree:add(pf.flags, tvb(2, 1))
    subtree:add(pf.len, tvb(3, 1))
    subtree:add(pf.epoch, tvb(4, 4))
    subtree:add(pf.expiry, tvb(8, 2))
    subtree:add(pf.name, tvb(10, len))
    local name = escape(tvb(10, len))
    if kind == "PROBE" then
        pinfo.cols.info = "PROBE for " .. name
    elseif kind == "ANNOUNCE" then
        local answer = bit.band(tvb(2, 1):uint(), 1) == 1 and " (answer)" or ""
        pinfo.cols.info = string.format("ANNOUNCE %s expiry=%ds%s", name, tvb(8, 2):uint(), answer)
    else
        pinfo.cols.info = "GOODBYE " .. name
    end
end

-- Keyed mode's handshake (core/src/wire/auth.rs; decode in
-- src/decode/mod.rs): a challenge and its answer, always followed by a
-- trailer (the bytes after the 28-byte body are not read here).
local hs = Proto("namehs", "whohas keyed-mode handshake")
local hf = {
    kind = ProtoField.uint8("namehs.kind", "Kind"),
    nonce = ProtoField.uint64("namehs.nonce", "Nonce", base.HEX),
    echo = ProtoField.uint64("namehs.echo", "Answers nonce", base.HEX),
    cause_epoch = ProtoField.uint32("namehs.cause_epoch", "Refused frame's epoch", base.HEX),
    cause_counter = ProtoField.uint32("namehs.cause_counter", "Refused frame's counter", base.DEC),
}
hs.fields = { hf.kind, hf.nonce, hf.echo, hf.cause_epoch, hf.cause_counter }

function hs.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-KEYED"
    local subtree = tree:add(hs, tvb())
    if tvb:len() < 28 then
        return malformed(pinfo, "buffer shorter than the protocol header")
    end
    local kind, nonce, echo = tvb(0, 1):uint(), tvb(4, 8):uint64(), tvb(12, 8):uint64()
    local zero = UInt64(0)
    if kind == 1 and nonce ~= zero then
        subtree:add(hf.kind, tvb(0, 1)):append_text(" (challenge)")
        subtree:add(hf.nonce, tvb(4, 8))
        subtree:add(hf.cause_epoch, tvb(20, 4))
        subtree:add(hf.cause_counter, tvb(24, 4))
        pinfo.cols.info = string.format("CHALLENGE %s for %08x#%d", nonce:tohex(16):lower(), tvb(20, 4):uint(),
            tvb(24, 4):uint())
    elseif kind == 2 and echo ~= zero then
        subtree:add(hf.kind, tvb(0, 1)):append_text(" (answer)")
        subtree:add(hf.echo, tvb(12, 8))
        local info = "ANSWER " .. echo:tohex(16):lower()
        if nonce ~= zero then
            subtree:add(hf.nonce, tvb(4, 8))
            info = info .. ", asks " .. nonce:tohex(16):lower()
        end
        pinfo.cols.info = info
    else
        return malformed(pinfo, "unsupported protocol field value")
    end
end

-- Keyed mode (docs/SECURITY.md, core/src/wire/auth.rs): with the preference
-- "namekeyed.enabled" on, the last 32 bytes of every whohas frame are the
-- trailer, shown on its own; the tag is not checked here (Lua has no
-- HMAC-SHA-256: `whohas decode --key-file` checks it). The Info column gets
-- " [keyed EPOCH#COUNTER]" as whohas decode writes it.

local keyed = Proto("namekeyed", "whohas keyed-mode trailer")
local kf = {
    epoch = ProtoField.uint32("namekeyed.epoch", "Epoch", base.HEX),
    counter = ProtoField.uint32("namekeyed.counter", "Counter", base.DEC),
    echo_epoch = ProtoField.uint32("namekeyed.echo_epoch", "Answers epoch", base.HEX),
    echo_counter = ProtoField.uint32("namekeyed.echo_counter", "Answers counter", base.DEC),
    tag = ProtoField.bytes("namekeyed.tag", "Tag (HMAC-SHA-256, first 16 bytes; not checked)"),
}
keyed.fields = { kf.epoch, kf.counter, kf.echo_epoch, kf.echo_counter, kf.tag }
keyed.prefs.enabled = Pref.bool("Frames carry the keyed-mode trailer", false,
    "Every whohas frame ends with the 32-byte trailer of keyed mode")

local TRAILER = 32

local function with_trailer(inner)
    return function(tvb, pinfo, tree)
        if not keyed.prefs.enabled then
            return inner.dissector(tvb, pinfo, tree)
        end
        local body = tvb:len() - TRAILER
        if body < 0 then
            pinfo.cols.protocol = "NAME-KEYED"
            return malformed(pinfo, "shorter than the keyed-mode trailer")
        end
        local trailer = tvb(body, TRAILER)
        frame_len = 14 + body
        inner.dissector(tvb(0, body):tvb(), pinfo, tree)
        frame_len = nil
        local subtree = tree:add(keyed, trailer)
        subtree:add(kf.epoch, trailer(0, 4))
        subtree:add(kf.counter, trailer(4, 4))
        subtree:add(kf.echo_epoch, trailer(8, 4))
        subtree:add(kf.echo_counter, trailer(12, 4))
        subtree:add(kf.tag, trailer(16, 16))
        local info = string.format(" [keyed %08x#%d", trailer(0, 4):uint(), trailer(4, 4):uint())
        if trailer(8, 4):uint() ~= 0 then
            info = info .. string.format(", answers %08x#%d", trailer(8, 4):uint(), trailer(12, 4):uint())
        end
        pinfo.cols.info = tostring(pinfo.cols.info) .. info .. "]"
    end
end

local ethertypes = DissectorTable.get("ethertype")
local protos = { [0xfffe] = name_arp, [0xfffd] = data, [0x88b5] = xfer, [0x88b6] = pres, [0xfffc] = hs }
for ethertype, proto in pairs(protos) do
    local wrapper = Proto(proto.name .. "_k", proto.description .. " (keyed mode aware)")
    wrapper.dissector = with_trailer(proto)
    ethertypes:add(ethertype, wrapper)
end
