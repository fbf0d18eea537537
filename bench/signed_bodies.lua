-- wrk script: each request carries the next pre-signed body, never one twice.
-- Usage: wrk -t N ... -s signed_bodies.lua URL -- METHOD N [BODIES_FILE [CLIENT_IPS]]
-- BODIES_FILE may be "" for none; CLIENT_IPS > 0 adds X-Forwarded-For from that many
-- addresses in turn (10.77.0.1, 10.77.0.2, ...), so per-IP limits count several clients.
-- Threads take disjoint slices (every n-th line), so no body is sent twice by two threads.
-- A line is a JSON body, or tab-separated "Name: value" headers followed by the body
-- (signed-header schemes such as Tao v2 sign each request's headers).

local function parse_line(line)
  if not line:find("\t", 1, true) then
    return { ["Content-Type"] = "application/json" }, line
  end
  local parts = {}
  for part in (line .. "\t"):gmatch("([^\t]*)\t") do
    parts[#parts + 1] = part
  end
  local headers = {}
  for i = 1, #parts - 1 do
    local name, value = parts[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local body = parts[#parts]
  if body == "" then
    body = nil
  end
  return headers, body
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local method = args[1] or "GET"
  local thread_count = tonumber(args[2] or "1")
  local bodies = args[3]
  if bodies == "" then
    bodies = nil
  end
  local client_ips = tonumber(args[4] or "0")
  local function forwarded(headers, index)
    if client_ips > 0 then
      headers["X-Forwarded-For"] = "10.77.0." .. tostring(index % client_ips + 1)
    end
    return headers
  end
  local path = wrk.path
  requests = {}
  if bodies == nil then
    for index = 0, math.max(client_ips, 1) - 1 do
      requests[#requests + 1] = wrk.format(method, path, forwarded({}, index))
    end
  else
    local index = 0
    for line in io.lines(bodies) do
      if index % thread_count == id then
        local headers, body = parse_line(line)
        requests[#requests + 1] = wrk.format(method, path, forwarded(headers, index), body)
      end
      index = index + 1
    end
  end
  cursor = 0
  wrapped = 0
  repeats = bodies ~= nil
end

function request()
  cursor = cursor + 1
  if cursor > #requests then
    cursor = 1
    if repeats then
      wrapped = wrapped + 1
    end
  end
  return requests[cursor]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  local out = {}
  out[#out + 1] = string.format('"requests":%d,"duration_us":%d,"bytes":%d',
    summary.requests, summary.duration, summary.bytes)
  out[#out + 1] = string.format(
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
    e.connect, e.read, e.write, e.status, e.timeout)
  out[#out + 1] = string.format('"latency_us":{"mean":%.1f,"max":%d,"stdev":%.1f',
    latency.mean, latency.max, latency.stdev)
  for _, p in ipairs({ 50, 75, 90, 95, 99, 99.9 }) do
    out[#out] = out[#out] .. string.format(',"p%s":%d', tostring(p), latency:percentile(p))
  end
  out[#out] = out[#out] .. "}"
  out[#out + 1] = string.format('"body_wraps":%d', wraps)
  io.write("WRK_JSON {" .. table.concat(out, ",") .. "}\n")
end
