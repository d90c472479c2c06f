#!lua flags=no-writes
-- mognet_lab: size, head and gzip trailer of large value contents, so they are
-- measured without being transferred whole. Declared no-writes and run with
-- EVALSHA_RO, so the server itself refuses any write. ARGV[1]: head bytes.
local head = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local contents = redis.call('HGET', key, 'contents')
  if contents then
    out[i] = {#contents, string.sub(contents, 1, head), string.sub(contents, -4)}
  else
    out[i] = {}
  end
end
return out
