-- Wireshark/tshark dissector for whohas' protocols (docs/PROTOCOL.md):
--   ethertype 0xFFFE  name-ARP  "Who has NAME?" / "NAME is at MAC"
--   ethertype 0xFFFD  data      a raw message
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
name_arp.fields = { f_len, f_mac, f_name }

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
    for i = 10 + len, body - 1 do
        if tvb(i, 1):uint() ~= 0 then
            return malformed(pinfo, "non-zero bytes after the end of the body")
        end
    end
    subtree:add(f_name, tvb(10, len))
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

function data.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "NAME-DATA"
    local len = tvb:len()
    -- A minimum-size (60-byte) frame's trailing zeros are Ethernet padding.
    if pinfo.len == 60 then
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

local ethertypes = DissectorTable.get("ethertype")
ethertypes:add(0xfffe, name_arp)
ethertypes:add(0xfffd, data)
