#!lua flags=no-writes
-- mognet_lab batch reader: for each key, what a pipeline would ask, in one call.
-- Declared no-writes and run with EVALSHA_RO, so the server itself refuses any
-- write. ARGV: samples ('' = server default), max_fields, max_members,
-- max_contents, head_bytes, then one kind per key.
local samples = ARGV[1]
local max_fields = tonumber(ARGV[2])
local max_members = tonumber(ARGV[3])
local max_contents = tonumber(ARGV[4])
local head_bytes = tonumber(ARGV[5])
local out = {}

local function memory(key)
  if samples == '' then
    return redis.call('MEMORY', 'USAGE', key)
  end
  return redis.call('MEMORY', 'USAGE', key, 'SAMPLES', samples)
end

local function clip_contents(fields)
  for j = 1, #fields, 2 do
    local v = fields[j + 1]
    if fields[j] == 'contents' and #v > max_contents then
      -- Large values: size, head and gzip trailer are enough to measure them.
      fields[j + 1] = {#v, string.sub(v, 1, head_bytes), string.sub(v, -4)}
    end
  end
  return fields
end

for i, key in ipairs(KEYS) do
  local kind = ARGV[5 + i]
  local rtype = redis.call('TYPE', key)['ok']
  if rtype == 'none' then
    out[i] = {rtype}
  else
    local count, encoding, data = false, false, false
    if kind == 'children' and rtype == 'set' then
      count = redis.call('SCARD', key)
      if count <= max_members then data = redis.call('SMEMBERS', key) end
    elseif kind ~= 'unknown' and kind ~= 'children' and rtype == 'hash' then
      count = redis.call('HLEN', key)
      if count <= max_fields then data = redis.call('HGETALL', key) end
      if kind == 'value' then
        encoding = redis.call('OBJECT', 'ENCODING', key)
        if data then data = clip_contents(data) end
      end
    end
    out[i] = {rtype, redis.call('PTTL', key), memory(key) or false, count, encoding, data}
  end
end
return out
