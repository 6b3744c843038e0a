"""The socket registry's Lua scripts (`messaging/socket/registry.py`): each runs atomically in Redis, so
two server processes never both count a socket slot as free, or both clear one dead process."""

# KEYS: sockets:<user>, stats:sockets, processes, process:<node>
# ARGV: now, socket expiry, cap, "<node> <channel>", sockets key ttl, "<user>|<channel>", node, node expiry
CONNECT = """
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local alive = tonumber(redis.call('ZSCORE', KEYS[3], string.match(member, '^(%S+)')) or '0')
  if alive > now then live = live + 1 end
end
if live >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
redis.call('SADD', KEYS[4], ARGV[6])
return live + 1
"""

# KEYS: processes. ARGV: now, key prefix ("<namespace>:ws:"). Claims and clears dead processes (one
# caller wins each: the script is atomic); returns the users who had sockets on them.
REAP = """
local users = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 20)) do
  redis.call('ZREM', KEYS[1], node)
  local held = ARGV[2] .. 'process:' .. node
  for _, member in ipairs(redis.call('SMEMBERS', held)) do
    local user, channel = string.match(member, '^([^|]+)|(.+)$')
    redis.call('ZREM', ARGV[2] .. 'sockets:' .. user, node .. ' ' .. channel)
    redis.call('ZREM', ARGV[2] .. 'stats:sockets', member)
    users[#users + 1] = user
  end
  redis.call('DEL', held)
end
return users
"""

# KEYS: rate:<user>:<second> of each user who sent frames since the last sync (`rates._rates_sync`).
# ARGV: the frames each adds, in KEYS' order. One call for every user, not two commands each: the sync
# runs ten times a second. Returns each key's total, every process's frames included.
RATES = """
local totals = {}
for i, rate in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', rate, ARGV[i])
  redis.call('EXPIRE', rate, 2)
end
return totals
"""
