-- Wireshark/tshark dissector for whohas' protocols (docs/PROTOCOL.md):
--   ethertype 0xFFFE  name-ARP  "Who has NAME?" / "NAME is at MAC"
--   ethertype 0xFFFD  data      a raw message
--
-- Use:  tshark -X lua_script:tools/wireshark/whohas.lua -r capture.pcap
-- or copy it to ~/.local/lib/wireshark/plugins/ for Wireshark.
--
-- The Info column matches `cargo run --example decode` exactly; the decode
-- tests compare the two.

local NAME_MAX = 64
local PREVIEW = 48

-- Printable ASCII as is, a backslash doubled, every other byte as \xNN.
local function escape(tvb_range)
    local bytes = tvb_range:bytes()
    local out = {}
    for i = 0, bytes:len() - 1 do
        local b = bytes:get_index(i)
        if b == 0x5c then
            out[#out + 1] = "\\\\"
        elseif b >= 0x20 and b < 0x7f then
            out[#out + 1] = string.char(b)
        else
            out[#out + 1] = string.format("\\x%02x", b)
        end
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
        local shown = math.min(len, PREVIEW)
        info = info .. ": " .. escape(tvb(0, shown))
        if len > PREVIEW then
            info = info .. "..."
        end
    end
    pinfo.cols.info = info
end

local ethertypes = DissectorTable.get("ethertype")
ethertypes:add(0xfffe, name_arp)
ethertypes:add(0xfffd, data)
